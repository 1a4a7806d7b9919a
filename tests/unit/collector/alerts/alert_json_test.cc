#include "collector/alerts/alert_json.h"

#include <gtest/gtest.h>

namespace ipattrib::collector {
namespace {

Alert sample_alert() {
  Alert a;
  a.id = 42;
  a.first_hit.measure_id = "ofac-ir";
  a.first_hit.measure_title = "Iran";
  a.first_hit.severity = Severity::kCritical;
  a.first_hit.reason = "country IR";
  a.first_hit.account = "acct-1";
  a.first_hit.ip = *IpAddress::parse("2001:db8::1");
  a.first_hit.access_class = RecordClass::kAdmin;
  a.first_hit.geo.country = "IR";
  a.first_hit.geo.registered_country = "DE";
  a.first_hit.geo.subdivision = "IR-23";
  a.first_hit.geo.asn = 64500;
  a.first_hit.geo.as_org = "Example AS";
  a.first_hit.geo.anonymizer_flags = kTorExitNode | kAnonymous;
  a.first_hit.gateway = "gw-1";
  a.first_hit.first_access_ms = 1714566896789;  // 2024-05-01T12:34:56.789Z
  a.last_access_ms = 1714566900000;
  a.count = 7;
  a.suppressed_hits = 2;
  a.created_ms = 1714566901000;
  a.updated_ms = 1714566902000;
  return a;
}

TEST(AlertTypes, NamesRoundTrip) {
  for (Severity s : {Severity::kCritical, Severity::kHigh, Severity::kReview, Severity::kInfo}) {
    Severity parsed = Severity::kInfo;
    ASSERT_TRUE(parse_severity(severity_name(s), parsed)) << severity_name(s);
    EXPECT_EQ(parsed, s);
  }
  for (AlertState s : {AlertState::kOpen, AlertState::kAcknowledged, AlertState::kResolved}) {
    AlertState parsed = AlertState::kOpen;
    ASSERT_TRUE(parse_alert_state(alert_state_name(s), parsed));
    EXPECT_EQ(parsed, s);
  }
  EXPECT_EQ(severity_name(Severity::kReview), "review");
  EXPECT_EQ(alert_state_name(AlertState::kAcknowledged), "acknowledged");
  Severity s = Severity::kHigh;
  EXPECT_FALSE(parse_severity("Critical", s));
  EXPECT_FALSE(parse_severity("", s));
  EXPECT_EQ(s, Severity::kHigh);
  AlertState st = AlertState::kOpen;
  EXPECT_FALSE(parse_alert_state("closed", st));
}

TEST(AlertJson, EveryFieldInItsDocumentedForm) {
  const nlohmann::json j = alert_to_json(sample_alert());
  EXPECT_EQ(j["id"], 42);
  EXPECT_EQ(j["measure"], (nlohmann::json{{"id", "ofac-ir"}, {"title", "Iran"}, {"severity", "critical"}}));
  EXPECT_EQ(j["reason"], "country IR");
  EXPECT_EQ(j["account"], "acct-1");
  EXPECT_EQ(j["ip"], "2001:db8::1");
  EXPECT_EQ(j["class"], "admin");
  EXPECT_EQ(j["geo"]["country"], "IR");
  EXPECT_EQ(j["geo"]["registered_country"], "DE");
  EXPECT_EQ(j["geo"]["subdivision"], "IR-23");
  EXPECT_EQ(j["geo"]["asn"], 64500);
  EXPECT_EQ(j["geo"]["as_org"], "Example AS");
  EXPECT_EQ(j["geo"]["anonymizers"], (nlohmann::json{"anonymous", "tor_exit_node"}));
  EXPECT_EQ(j["gateway"], "gw-1");
  EXPECT_EQ(j["first_access"], "2024-05-01T12:34:56.789Z");
  EXPECT_EQ(j["last_access"], "2024-05-01T12:35:00.000Z");
  EXPECT_EQ(j["count"], 7);
  EXPECT_EQ(j["suppressed_hits"], 2);
  EXPECT_EQ(j["retroactive"], false);
  EXPECT_EQ(j["created"], "2024-05-01T12:35:01.000Z");
  EXPECT_EQ(j["updated"], "2024-05-01T12:35:02.000Z");
  EXPECT_EQ(j["state"], "open");
  EXPECT_EQ(j["state_by"], "");
  EXPECT_TRUE(j["state_changed"].is_null());
  EXPECT_EQ(j["state_note"], "");
  EXPECT_EQ(j.size(), 19u);  // nothing undocumented
}

TEST(AlertJson, StateChangeAndHostileText) {
  Alert a = sample_alert();
  a.state = AlertState::kResolved;
  a.state_by = "analyst";
  a.state_changed_ms = 1714566903000;
  a.state_note = "customer relocated";
  a.first_hit.account = std::string("bad\xff\"utf8", 9);
  const nlohmann::json j = alert_to_json(a);
  EXPECT_EQ(j["state"], "resolved");
  EXPECT_EQ(j["state_by"], "analyst");
  EXPECT_EQ(j["state_changed"], "2024-05-01T12:35:03.000Z");
  a.retroactive = true;
  EXPECT_EQ(alert_to_json(a)["retroactive"], true);
  const std::string text = alert_json_text(a);  // must not throw on invalid UTF-8
  const nlohmann::json back = nlohmann::json::parse(text);
  EXPECT_EQ(back["account"], "bad\xEF\xBF\xBD\"utf8");
  EXPECT_EQ(back["id"], 42);
}

}  // namespace
}  // namespace ipattrib::collector
