#include "collector/api/ledger_json.h"

#include "collector/api/rfc3339.h"
#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {
namespace {

nlohmann::json anonymizer_json(std::uint8_t flags) {
  nlohmann::json names = nlohmann::json::array();
  for_each_anonymizer_flag(flags, [&](std::string_view name) { names.push_back(std::string(name)); });
  return names;
}

}  // namespace

std::string_view record_class_name(RecordClass c) { return c == RecordClass::kAdmin ? "admin" : "access"; }

std::string_view ip_source_name(RecordIpSource s) {
  switch (s) {
    case RecordIpSource::kSocket:
      return "socket";
    case RecordIpSource::kProxyProtocol:
      return "proxy_protocol";
    case RecordIpSource::kForwarded:
      return "forwarded";
    case RecordIpSource::kXForwardedFor:
      return "x_forwarded_for";
    case RecordIpSource::kXRealIp:
      return "x_real_ip";
  }
  return "unknown";
}

nlohmann::json geo_json(const RecordGeo& geo) {
  nlohmann::json j;
  j["country"] = geo.country;
  j["registered_country"] = geo.registered_country;
  j["subdivision"] = geo.subdivision;
  j["asn"] = geo.asn;
  j["as_org"] = geo.as_org;
  j["anonymizer"] = anonymizer_json(geo.anonymizer_flags);
  j["db_build"] =
      geo.db_build_epoch == 0 ? nlohmann::json(nullptr) : nlohmann::json(format_rfc3339_ms(geo.db_build_epoch * 1000));
  return j;
}

nlohmann::json summary_json(const IpSummary& s, bool with_account) {
  nlohmann::json j;
  if (with_account) j["account"] = s.account;
  j["ip"] = s.ip.to_string();
  j["class"] = record_class_name(s.access_class);
  j["ip_source"] = ip_source_name(s.ip_source);
  j["first_seen"] = format_rfc3339_ms(s.first_seen_ms);
  j["last_seen"] = format_rfc3339_ms(s.last_seen_ms);
  j["count"] = s.access_count;
  j["first_geo"] = geo_json(s.first_geo);
  j["last_geo"] = geo_json(s.last_geo);
  j["gateways"] = s.gateways;
  j["principal"] = s.last_principal;
  return j;
}

nlohmann::json access_json(const Access& a) {
  return {{"time", format_rfc3339_ms(a.time_ms)},
          {"time_ms", a.time_ms},
          {"ip", a.ip.to_string()},
          {"class", record_class_name(a.access_class)},
          {"gateway", a.gateway}};
}

nlohmann::json export_json(const std::string& account, const AccountExport& record) {
  nlohmann::json ips = nlohmann::json::array();
  for (const IpSummary& s : record.ips) ips.push_back(summary_json(s, false));
  nlohmann::json accesses = nlohmann::json::array();
  for (const Access& a : record.accesses) accesses.push_back(access_json(a));
  return {{"account", account}, {"ips", std::move(ips)}, {"accesses", std::move(accesses)}};
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ipattrib::collector
