// An alert with every field set, for the sink and delivery tests.
#pragma once

#include <string>

#include "collector/alerts/alert_types.h"

namespace ipattrib::collector::testing {

inline Alert sample_alert(std::int64_t id, std::string account = "acct-1", Severity severity = Severity::kCritical) {
  Alert a;
  a.id = id;
  a.first_hit.measure_id = "ofac-ir";
  a.first_hit.measure_title = "Iran (comprehensive sanctions)";
  a.first_hit.severity = severity;
  a.first_hit.reason = "country IR";
  a.first_hit.account = std::move(account);
  a.first_hit.ip = *IpAddress::parse("192.0.2.44");
  a.first_hit.geo.country = "IR";
  a.first_hit.geo.asn = 64500;
  a.first_hit.geo.as_org = "Example \"AS\"";
  a.first_hit.gateway = "gw-1";
  a.first_hit.first_access_ms = 1714566896789;
  a.first_hit.last_access_ms = 1714566896789;
  a.first_hit.count = 1;
  a.last_access_ms = 1714566896789;
  a.count = 1;
  a.created_ms = 1714566897000;
  a.updated_ms = 1714566897000;
  return a;
}

}  // namespace ipattrib::collector::testing
