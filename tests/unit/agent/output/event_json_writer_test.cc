#include "agent/output/event_json_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ipattrib::agent {
namespace {

AccessEvent sample_event() {
  AccessEvent e;
  e.ts_us = 1763890354123456;  // 2025-11-23T09:32:34.123456Z
  e.client_ip = *IpAddress::parse("203.0.113.9");
  e.ip_source = IpSource::kXForwardedFor;
  e.peer_ip = *IpAddress::parse("10.30.0.5");
  e.peer_port = 41000;
  e.server_ip = *IpAddress::parse("2001:db8::10");
  e.server_port = 8080;
  e.method = "POST";
  e.host = "api.example.net";
  e.target = "/v1/accounts/acct-1/keys?x=\"1\"";
  e.has_account = true;
  e.account = "acct-1";
  e.access_class = AccessClass::kAdmin;
  return e;
}

TEST(EventJsonWriterTest, WritesEveryFieldWithNullsForUnknowns) {
  const auto j = nlohmann::json::parse(EventJsonWriter::to_json(sample_event()));
  EXPECT_EQ(j["ts"], "2025-11-23T09:32:34.123456Z");
  EXPECT_EQ(j["client_ip"], "203.0.113.9");
  EXPECT_EQ(j["ip_source"], "x_forwarded_for");
  EXPECT_EQ(j["peer_ip"], "10.30.0.5");
  EXPECT_EQ(j["peer_port"], 41000);
  EXPECT_EQ(j["server_ip"], "2001:db8::10");
  EXPECT_EQ(j["server_port"], 8080);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["host"], "api.example.net");
  EXPECT_EQ(j["target"], "/v1/accounts/acct-1/keys?x=\"1\"");
  EXPECT_EQ(j["account"], "acct-1");
  EXPECT_TRUE(j["principal"].is_null());
  EXPECT_EQ(j["class"], "admin");
  EXPECT_TRUE(j["country"].is_null());
  EXPECT_TRUE(j["subdivision"].is_null());
  EXPECT_TRUE(j["asn"].is_null());
  EXPECT_TRUE(j["anonymizer"].is_array());
  EXPECT_TRUE(j["anonymizer"].empty());
}

TEST(EventJsonWriterTest, NullAccountAndGeoFields) {
  AccessEvent e = sample_event();
  e.has_account = false;
  e.account = {};
  e.geo.country.code[0] = 'U';
  e.geo.country.code[1] = 'A';
  std::snprintf(e.geo.subdivision.code, sizeof(e.geo.subdivision.code), "UA-43");
  e.geo.asn = 64500;
  e.geo.as_org = "Example AS";
  e.geo.anonymizer_flags = kTorExitNode | kAnonymous;
  const auto j = nlohmann::json::parse(EventJsonWriter::to_json(e));
  EXPECT_TRUE(j["account"].is_null());
  EXPECT_EQ(j["country"], "UA");
  EXPECT_EQ(j["subdivision"], "UA-43");
  EXPECT_EQ(j["asn"], 64500);
  EXPECT_EQ(j["as_org"], "Example AS");
  EXPECT_EQ(j["anonymizer"], nlohmann::json::array({"anonymous", "tor_exit_node"}));
}

TEST(EventJsonWriterTest, InvalidUtf8InTargetDoesNotBreakTheLine) {
  AccessEvent e = sample_event();
  e.target = "/\xff\xfe/x";
  const std::string text = EventJsonWriter::to_json(e);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_NE(j["target"].get<std::string>().find("/x"), std::string::npos);
}

TEST(EventJsonWriterTest, WritesOneLinePerEventAndCounts) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EventJsonWriter writer(f);
  writer.on_access(sample_event());
  writer.on_access(sample_event());
  writer.flush();
  std::rewind(f);
  char buf[4096];
  int lines = 0;
  while (std::fgets(buf, sizeof(buf), f) != nullptr) {
    ++lines;
    EXPECT_TRUE(nlohmann::json::accept(buf));
  }
  std::fclose(f);
  EXPECT_EQ(lines, 2);
}

TEST(FormatRfc3339Test, HandlesEpochAndNegative) {
  EXPECT_EQ(format_rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339_micros(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace ipattrib::agent
