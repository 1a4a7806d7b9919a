#include "ctl/alert_commands.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "ctl/command_output.h"
#include "ctl/text_table.h"

namespace ipattrib::ctl {
namespace {

using nlohmann::json;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::uint64_t kPageSize = 1000;

const json& member(const json& j, const char* key) {
  static const json kEmpty = json::object();
  return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : kEmpty;
}

// "name  value" lines, names padded to one column; control characters in
// values (alert fields come from traffic) print as '?'.
void write_fields(const Fields& fields, std::ostream& out) {
  std::size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, name.size());
  for (const auto& [name, value] : fields) {
    std::string line = name + std::string(width - name.size() + 2, ' ') + printable(value);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

std::vector<std::string> alert_cells(const json& a) {
  const json& measure = member(a, "measure");
  const json& geo = member(a, "geo");
  return {text_of(a, "id"),        text_of(measure, "severity"), text_of(a, "first_access"),
          text_of(measure, "id"),  text_of(a, "account"),        text_of(a, "ip"),
          text_of(geo, "country"), text_of(geo, "subdivision"),  text_of(a, "count"),
          text_of(a, "state")};
}

Fields alert_fields(const json& a) {
  const json& measure = member(a, "measure");
  const json& geo = member(a, "geo");
  const std::string asn = text_of(geo, "asn");
  std::string state = text_of(a, "state");
  if (!text_of(a, "state_by").empty()) state += " by " + text_of(a, "state_by") + " at " + text_of(a, "state_changed");
  return {{"id", text_of(a, "id")},
          {"severity", text_of(measure, "severity")},
          {"measure", text_of(measure, "id") + " (" + text_of(measure, "title") + ")"},
          {"reason", text_of(a, "reason")},
          {"account", text_of(a, "account")},
          {"ip", text_of(a, "ip")},
          {"class", text_of(a, "class")},
          {"country", text_of(geo, "country")},
          {"registered country", text_of(geo, "registered_country")},
          {"subdivision", text_of(geo, "subdivision")},
          {"asn", asn.empty() || asn == "0" ? "" : asn + " " + text_of(geo, "as_org")},
          {"anonymizers", text_of(geo, "anonymizers") == "[]" ? "" : text_of(geo, "anonymizers")},
          {"gateway", text_of(a, "gateway")},
          {"first access", text_of(a, "first_access")},
          {"last access", text_of(a, "last_access")},
          {"count", text_of(a, "count") + " (" + text_of(a, "suppressed_hits") + " later hits folded in)"},
          {"raised", text_of(a, "created")},
          {"state", state},
          {"note", text_of(a, "state_note")}};
}

// The measure's matchers in one cell: "country CU IR; subdivision UA-43; ...".
std::string matches_of(const json& m) {
  std::string text;
  for (const auto& [key, name] : {std::pair{"countries", "country"},
                                  {"subdivisions", "subdivision"},
                                  {"accounts", "account"},
                                  {"networks", "network"},
                                  {"asns", "asn"},
                                  {"anonymizers", "anonymizer"}}) {
    if (!m.contains(key) || !m[key].is_array() || m[key].empty()) continue;
    if (!text.empty()) text += "; ";
    text += name;
    for (const json& v : m[key]) text += " " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  if (m.value("match_registered_country", false)) text += " (also registered country)";
  return text;
}

int change_state(QueryClient& client, const AlertStateCommand& cmd, const char* action, std::ostream& out,
                 std::ostream& err) {
  json body = {{"by", cmd.by}};
  if (!cmd.note.empty()) body["note"] = cmd.note;
  json alert;
  Reply reply = client.post_json("/v1/alerts/" + std::to_string(cmd.id) + "/" + action, body, alert);
  if (reply.code != kExitOk) return fail(reply, err);
  if (cmd.format == "json") {
    out << alert.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else {
    out << printable("alert " + text_of(alert, "id") + " " + text_of(alert, "state") + " by " +
                     text_of(alert, "state_by"))
        << '\n';
  }
  return kExitOk;
}

}  // namespace

int run_alerts(QueryClient& client, const AlertsCommand& cmd, std::ostream& out, std::ostream& err) {
  json alerts = json::array();
  std::string before;
  bool more = false;
  for (;;) {
    std::uint64_t page = kPageSize;
    if (cmd.limit != 0) page = std::min<std::uint64_t>(page, cmd.limit - alerts.size());
    QueryParams params = {{"state", cmd.state},
                          {"severity", cmd.severity},
                          {"measure", cmd.measure},
                          {"account", cmd.account},
                          {"since", cmd.time.since},
                          {"until", cmd.time.until},
                          {"limit", std::to_string(page)},
                          {"before", before}};
    json body;
    Reply reply = client.get_json(path_with_query("/v1/alerts", params), body);
    if (reply.code != kExitOk) return fail(reply, err);
    if (!body.contains("alerts") || !body["alerts"].is_array()) {
      return fail({kExitError, "", "unexpected response"}, err);
    }
    for (json& a : body["alerts"]) alerts.push_back(std::move(a));
    if (!body.contains("next_before") || !body["next_before"].is_number_integer()) break;
    if (cmd.limit != 0 && alerts.size() >= cmd.limit) {
      more = true;
      break;
    }
    const std::string next = std::to_string(body["next_before"].get<std::int64_t>());
    if (next == before) return fail({kExitError, "", "the collector's paging did not advance"}, err);
    before = next;
  }
  if (more) {
    err << "ipattribctl: showing the newest " << alerts.size() << " alerts; more match (--limit 0 shows all)\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& a : alerts) rows.push_back(alert_cells(a));
  return write_rows(
      cmd.format,
      {"ID", "SEVERITY", "FIRST ACCESS", "MEASURE", "ACCOUNT", "IP", "COUNTRY", "SUBDIVISION", "COUNT", "STATE"}, rows,
      {{"alerts", alerts}}, out);
}

int run_alert(QueryClient& client, const AlertCommand& cmd, std::ostream& out, std::ostream& err) {
  json alert;
  Reply reply = client.get_json("/v1/alerts/" + std::to_string(cmd.id), alert);
  if (reply.code != kExitOk) return fail(reply, err);
  if (cmd.format == "json") {
    out << alert.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else {
    write_fields(alert_fields(alert), out);
  }
  return kExitOk;
}

int run_ack(QueryClient& client, const AlertStateCommand& cmd, std::ostream& out, std::ostream& err) {
  return change_state(client, cmd, "ack", out, err);
}

int run_resolve(QueryClient& client, const AlertStateCommand& cmd, std::ostream& out, std::ostream& err) {
  return change_state(client, cmd, "resolve", out, err);
}

int run_measures(QueryClient& client, const MeasuresCommand& cmd, std::ostream& out, std::ostream& err) {
  json policy;
  Reply reply = client.get_json("/v1/measures", policy);
  if (reply.code != kExitOk) return fail(reply, err);
  if (cmd.format == "json") {
    out << policy.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    return kExitOk;
  }
  if (!policy.is_object() || !policy.contains("measures") || !policy["measures"].is_array()) {
    return fail({kExitError, "", "unexpected response"}, err);
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& m : policy["measures"]) {
    rows.push_back({text_of(m, "id"), text_of(m, "severity"), text_of(m, "effective"), text_of(m, "expires"),
                    matches_of(m), text_of(m, "title")});
  }
  return write_rows("table", {"ID", "SEVERITY", "EFFECTIVE", "EXPIRES", "MATCHES", "TITLE"}, rows, policy, out);
}

int run_scan(QueryClient& client, const ScanCommand& cmd, std::ostream& out, std::ostream& err) {
  json body = json::object();
  if (!cmd.measure.empty()) body["measure"] = cmd.measure;
  json summary;
  Reply reply = client.post_json("/v1/scan", body, summary);
  if (reply.code != kExitOk) return fail(reply, err);
  if (cmd.format == "json" || !summary.is_object()) {
    out << summary.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    return kExitOk;
  }
  Fields fields;
  for (const auto& [key, value] : summary.items()) fields.emplace_back(key, text_of(summary, key.c_str()));
  write_fields(fields, out);
  return kExitOk;
}

}  // namespace ipattrib::ctl
