#include "ctl/ctl_commands.h"

#include <algorithm>
#include <fstream>

#include "ctl/command_output.h"

namespace ipattrib::ctl {
namespace {

using nlohmann::json;

constexpr std::uint64_t kPageSize = 1000;

std::string gateways_of(const json& summary) {
  std::string text;
  if (!summary.contains("gateways") || !summary["gateways"].is_array()) return text;
  for (const json& g : summary["gateways"]) {
    if (!text.empty()) text += ",";
    text += g.is_string() ? g.get<std::string>() : g.dump();
  }
  return text;
}

// The columns of a summary row; the reverse lookup prefixes the account.
std::vector<std::string> summary_headers(bool with_account) {
  std::vector<std::string> h = {"IP",      "CLASS",       "FIRST SEEN", "LAST SEEN", "COUNT",
                                "COUNTRY", "SUBDIVISION", "ASN",        "GATEWAYS"};
  if (with_account) h.insert(h.begin(), "ACCOUNT");
  return h;
}

std::vector<std::string> summary_cells(const json& s, bool with_account) {
  const json geo = s.contains("last_geo") && s["last_geo"].is_object() ? s["last_geo"] : json::object();
  const std::string asn = text_of(geo, "asn");
  std::vector<std::string> cells = {
      text_of(s, "ip"),    text_of(s, "class"),     text_of(s, "first_seen"),    text_of(s, "last_seen"),
      text_of(s, "count"), text_of(geo, "country"), text_of(geo, "subdivision"), asn == "0" ? "" : asn,
      gateways_of(s)};
  if (with_account) cells.insert(cells.begin(), text_of(s, "account"));
  return cells;
}

// Fetches every page of an offset-paged endpoint into `items`.
int fetch_all_offsets(QueryClient& client, const std::string& path, QueryParams params, const char* key, json& first,
                      json& items, std::ostream& err) {
  items = json::array();
  std::uint64_t offset = 0;
  for (;;) {
    QueryParams page_params = params;
    page_params.emplace_back("limit", std::to_string(kPageSize));
    if (offset != 0) page_params.emplace_back("offset", std::to_string(offset));
    json page;
    Reply reply = client.get_json(path_with_query(path, page_params), page);
    if (reply.code != kExitOk) return fail(reply, err);
    if (first.is_null()) first = page;
    if (!page.contains(key) || !page[key].is_array()) return fail({kExitError, "", "unexpected response"}, err);
    for (json& item : page[key]) items.push_back(std::move(item));
    if (!page.contains("next_offset") || !page["next_offset"].is_number_unsigned()) return kExitOk;
    const std::uint64_t next = page["next_offset"].get<std::uint64_t>();
    if (next <= offset) return fail({kExitError, "", "the collector's paging did not advance"}, err);
    offset = next;
  }
}

}  // namespace

int run_account(QueryClient& client, const AccountCommand& cmd, std::ostream& out, std::ostream& err) {
  const std::string path = "/v1/accounts/" + percent_encode(cmd.account) + "/ips";
  QueryParams params = {
      {"since", cmd.time.since}, {"until", cmd.time.until}, {"class", cmd.access_class}, {"country", cmd.country}};
  json first, ips;
  if (int code = fetch_all_offsets(client, path, params, "ips", first, ips, err); code != kExitOk) return code;
  std::vector<std::vector<std::string>> rows;
  for (const json& s : ips) rows.push_back(summary_cells(s, false));
  return write_rows(cmd.format, summary_headers(false), rows, {{"account", cmd.account}, {"ips", ips}}, out);
}

int run_ip(QueryClient& client, const IpCommand& cmd, std::ostream& out, std::ostream& err) {
  const std::string path = "/v1/ips/" + percent_encode(cmd.network) + "/accounts";
  json first, accounts;
  if (int code = fetch_all_offsets(client, path, {{"since", cmd.time.since}, {"until", cmd.time.until}}, "accounts",
                                   first, accounts, err);
      code != kExitOk) {
    return code;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& s : accounts) rows.push_back(summary_cells(s, true));
  return write_rows(
      cmd.format, summary_headers(true), rows,
      {{"network", first.is_object() ? first.value("network", cmd.network) : cmd.network}, {"accounts", accounts}},
      out);
}

int run_accesses(QueryClient& client, const AccessesCommand& cmd, std::ostream& out, std::ostream& err) {
  const std::string path = "/v1/accounts/" + percent_encode(cmd.account) + "/accesses";
  json accesses = json::array();
  std::string cursor;
  for (;;) {
    std::uint64_t page = kPageSize;
    if (cmd.limit) page = std::min<std::uint64_t>(page, *cmd.limit - accesses.size());
    if (page == 0) break;
    QueryParams params = {{"ip", cmd.ip},
                          {"since", cmd.time.since},
                          {"until", cmd.time.until},
                          {"class", cmd.access_class},
                          {"limit", std::to_string(page)},
                          {"cursor", cursor}};
    json body;
    Reply reply = client.get_json(path_with_query(path, params), body);
    if (reply.code != kExitOk) return fail(reply, err);
    if (!body.contains("accesses") || !body["accesses"].is_array()) {
      return fail({kExitError, "", "unexpected response"}, err);
    }
    for (json& a : body["accesses"]) accesses.push_back(std::move(a));
    if (!body.contains("next_cursor") || !body["next_cursor"].is_string()) break;
    const std::string next = body["next_cursor"].get<std::string>();
    if (next == cursor) return fail({kExitError, "", "the collector's paging did not advance"}, err);
    cursor = next;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& a : accesses) {
    rows.push_back({text_of(a, "time"), text_of(a, "ip"), text_of(a, "class"), text_of(a, "gateway")});
  }
  return write_rows(cmd.format, {"TIME", "IP", "CLASS", "GATEWAY"}, rows,
                    {{"account", cmd.account}, {"accesses", accesses}}, out);
}

int run_export(QueryClient& client, const ExportCommand& cmd, std::ostream& out, std::ostream& err) {
  const std::string path = "/v1/accounts/" + percent_encode(cmd.account) + "/export";
  Reply reply = client.get(path_with_query(path, {{"format", cmd.format}}));
  if (reply.code != kExitOk) return fail(reply, err);
  if (cmd.output.empty()) {
    out << reply.body;
    return kExitOk;
  }
  std::ofstream file(cmd.output, std::ios::binary | std::ios::trunc);
  file << reply.body;
  file.close();
  if (!file) return fail({kExitError, "", "cannot write " + cmd.output}, err);
  return kExitOk;
}

}  // namespace ipattrib::ctl
