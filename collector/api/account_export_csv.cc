#include "collector/api/account_export_csv.h"

#include <map>
#include <tuple>

#include "collector/api/csv_row.h"
#include "collector/api/ledger_json.h"
#include "collector/api/rfc3339.h"
#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {
namespace {

std::string anonymizer_text(std::uint8_t flags) {
  std::string text;
  for_each_anonymizer_flag(flags, [&](std::string_view name) {
    if (!text.empty()) text.push_back(' ');
    text.append(name);
  });
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& s : items) {
    if (!text.empty()) text.push_back(' ');
    text += s;
  }
  return text;
}

}  // namespace

std::string export_csv(const std::string& account, const AccountExport& record) {
  std::string out;
  append_csv_row(out, {"account", "ip", "class", "access_time", "gateway", "first_seen", "last_seen", "access_count",
                       "country", "subdivision", "asn", "as_org", "anonymizer", "ip_source", "principal"});
  using Key = std::tuple<IpAddress, RecordClass>;
  std::map<Key, const IpSummary*> summaries;
  std::map<Key, bool> has_rows;
  for (const IpSummary& s : record.ips) summaries[{s.ip, s.access_class}] = &s;
  auto row = [&](const IpSummary& s, const std::string& time, const std::string& gateway) {
    append_csv_row(out, {account, s.ip.to_string(), std::string(record_class_name(s.access_class)), time, gateway,
                         format_rfc3339_ms(s.first_seen_ms), format_rfc3339_ms(s.last_seen_ms),
                         std::to_string(s.access_count), s.last_geo.country, s.last_geo.subdivision,
                         s.last_geo.asn == 0 ? std::string() : std::to_string(s.last_geo.asn), s.last_geo.as_org,
                         anonymizer_text(s.last_geo.anonymizer_flags), std::string(ip_source_name(s.ip_source)),
                         s.last_principal});
  };
  IpSummary orphan;  // an access without a summary (not expected) still appears
  orphan.account = account;
  for (const Access& a : record.accesses) {
    const Key key{a.ip, a.access_class};
    auto it = summaries.find(key);
    const IpSummary* s = it != summaries.end() ? it->second : nullptr;
    if (s == nullptr) {
      orphan.ip = a.ip;
      orphan.access_class = a.access_class;
      s = &orphan;
    }
    has_rows[key] = true;
    row(*s, format_rfc3339_ms(a.time_ms), a.gateway);
  }
  for (const IpSummary& s : record.ips) {
    if (!has_rows.contains({s.ip, s.access_class})) row(s, "", joined(s.gateways));
  }
  return out;
}

}  // namespace ipattrib::collector
