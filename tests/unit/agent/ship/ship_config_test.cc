#include "agent/ship/ship_config.h"

#include <gtest/gtest.h>

#include <string>

namespace ipattrib::agent {
namespace {

ShipConfig parse(std::string_view text, ConfigErrors& errors) {
  const toml::table doc = toml::parse(text);
  const toml::table* ship = doc["ship"].as_table();
  if (ship == nullptr) return parse_ship_config(toml::table{}, errors);
  return parse_ship_config(*ship, errors);  // by reference: a copy loses source lines
}

TEST(ShipConfigTest, Defaults) {
  ConfigErrors errors("agent.toml");
  const ShipConfig config = parse("[ship]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(config.flush_window_ms, 1000u);
  EXPECT_EQ(config.max_records_per_window, 10000u);
  EXPECT_FALSE(config.ship_unattributed);
  EXPECT_EQ(config.spool_dir, "/var/lib/ipattrib/spool");
  EXPECT_EQ(config.max_spool_mb, 1024u);
  EXPECT_TRUE(config.collectors.empty());
  EXPECT_TRUE(config.tls_ca.empty());
  EXPECT_FALSE(config.plaintext_for_tests);
}

TEST(ShipConfigTest, EveryKey) {
  ConfigErrors errors("agent.toml");
  const ShipConfig config = parse(R"(
[ship]
flush_window_ms = 250
max_records_per_window = 500
ship_unattributed = true
spool_dir = "/srv/spool"
max_spool_mb = 16
collectors = ["collector-1.example:7443", "10.0.0.2:7443", "[2001:db8::1]:7443"]
tls_ca = "/etc/ipattrib/ca.pem"
tls_cert = "/etc/ipattrib/agent.pem"
tls_key = "/etc/ipattrib/agent.key"
)",
                                  errors);
  ASSERT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(config.flush_window_ms, 250u);
  EXPECT_EQ(config.max_records_per_window, 500u);
  EXPECT_TRUE(config.ship_unattributed);
  EXPECT_EQ(config.spool_dir, "/srv/spool");
  EXPECT_EQ(config.max_spool_mb, 16u);
  ASSERT_EQ(config.collectors.size(), 3u);
  EXPECT_EQ(config.collectors[0], (CollectorAddress{"collector-1.example", 7443}));
  EXPECT_EQ(config.collectors[1], (CollectorAddress{"10.0.0.2", 7443}));
  EXPECT_EQ(config.collectors[2], (CollectorAddress{"2001:db8::1", 7443}));
  EXPECT_EQ(config.tls_ca, "/etc/ipattrib/ca.pem");
  EXPECT_EQ(config.tls_cert, "/etc/ipattrib/agent.pem");
  EXPECT_EQ(config.tls_key, "/etc/ipattrib/agent.key");
}

TEST(ShipConfigTest, UnknownKeyReportedWithItsLine) {
  ConfigErrors errors("agent.toml");
  parse("[ship]\nflush_window_ms = 100\nflush_windw_ms = 5\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 3u);
  EXPECT_NE(errors.errors()[0].message.find("flush_windw_ms"), std::string::npos) << errors.to_string();
}

TEST(ShipConfigTest, OutOfRangeAndWrongTypes) {
  ConfigErrors errors("agent.toml");
  parse(R"([ship]
flush_window_ms = 0
max_records_per_window = 100001
max_spool_mb = 0
ship_unattributed = "yes"
spool_dir = ""
collectors = "a:1"
)",
        errors);
  EXPECT_EQ(errors.errors().size(), 6u) << errors.to_string();
  for (const auto& error : errors.errors()) EXPECT_GE(error.line, 2u);
}

TEST(ShipConfigTest, MalformedCollectorsAreErrors) {
  for (const char* bad : {"host", "host:", ":7443", "host:0", "host:65536", "host:12ab", "2001:db8::1:7443",
                          "[2001:db8::1]", "[2001:db8::1]7443", "[]:1", "ho st:1"}) {
    CollectorAddress address;
    EXPECT_FALSE(parse_collector_address(bad, address)) << bad;
  }
  ConfigErrors errors("agent.toml");
  parse("[ship]\nplaintext_for_tests = true\ncollectors = [\"ok:1\",\n  \"bad\"]\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u) << errors.to_string();
  EXPECT_NE(errors.errors()[0].message.find("'bad'"), std::string::npos);
}

TEST(ShipConfigTest, CollectorsNeedTlsUnlessPlaintextForTests) {
  ConfigErrors errors("agent.toml");
  parse("[ship]\ncollectors = [\"c:7443\"]\ntls_ca = \"/ca.pem\"\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_NE(errors.errors()[0].message.find("tls_cert"), std::string::npos);

  ConfigErrors plaintext("agent.toml");
  const ShipConfig config = parse("[ship]\ncollectors = [\"127.0.0.1:7443\"]\nplaintext_for_tests = true\n", plaintext);
  EXPECT_TRUE(plaintext.empty()) << plaintext.to_string();
  EXPECT_TRUE(config.plaintext_for_tests);
}

}  // namespace
}  // namespace ipattrib::agent
