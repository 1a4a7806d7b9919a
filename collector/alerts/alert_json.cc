#include "collector/alerts/alert_json.h"

#include "collector/api/rfc3339.h"
#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {
namespace {

nlohmann::json geo_json(const RecordGeo& geo) {
  nlohmann::json anonymizers = nlohmann::json::array();
  for_each_anonymizer_flag(geo.anonymizer_flags, [&](std::string_view name) { anonymizers.push_back(name); });
  return {{"country", geo.country},         {"registered_country", geo.registered_country},
          {"subdivision", geo.subdivision}, {"asn", geo.asn},
          {"as_org", geo.as_org},           {"anonymizers", std::move(anonymizers)}};
}

// null rather than 1970 for "never" (an open alert has no state change).
nlohmann::json time_or_null(std::int64_t epoch_ms) {
  return epoch_ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(format_rfc3339_ms(epoch_ms));
}

}  // namespace

nlohmann::json alert_to_json(const Alert& alert) {
  const AlertHit& hit = alert.first_hit;
  nlohmann::json j;
  j["id"] = alert.id;
  j["measure"] = {{"id", hit.measure_id}, {"title", hit.measure_title}, {"severity", severity_name(hit.severity)}};
  j["reason"] = hit.reason;
  j["account"] = hit.account;
  j["ip"] = hit.ip.to_string();
  j["class"] = hit.access_class == RecordClass::kAdmin ? "admin" : "access";
  j["geo"] = geo_json(hit.geo);
  j["gateway"] = hit.gateway;
  j["first_access"] = format_rfc3339_ms(hit.first_access_ms);
  j["last_access"] = format_rfc3339_ms(alert.last_access_ms);
  j["count"] = alert.count;
  j["suppressed_hits"] = alert.suppressed_hits;
  j["retroactive"] = alert.retroactive;
  j["created"] = format_rfc3339_ms(alert.created_ms);
  j["updated"] = format_rfc3339_ms(alert.updated_ms);
  j["state"] = alert_state_name(alert.state);
  j["state_by"] = alert.state_by;
  j["state_changed"] = time_or_null(alert.state_changed_ms);
  j["state_note"] = alert.state_note;
  return j;
}

std::string alert_json_text(const Alert& alert) {
  // Account ids come from traffic: invalid UTF-8 is replaced, not thrown on.
  return alert_to_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ipattrib::collector
