#include "collector/ingest/ingest_config.h"

#include <gtest/gtest.h>

namespace ipattrib::collector {
namespace {

IngestConfig parse(const std::string& text, ConfigErrors& errors) {
  toml::table table = toml::parse(std::string_view(text), std::string_view("collector.toml"));
  return parse_ingest_config(*table["ingest"].as_table(), errors);
}

TEST(IngestConfigTest, ReadsEveryKey) {
  ConfigErrors errors("collector.toml");
  IngestConfig config = parse(R"([ingest]
listen = "[::1]:9443"
tls_ca = "ca.crt"
tls_cert = "c.crt"
tls_key = "c.key"
allowed_agents = ["agent-1", "agent-2"]
max_connections = 10
idle_timeout_s = 60
)",
                              errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(config.listen, "[::1]:9443");
  EXPECT_EQ(config.tls_key, "c.key");
  EXPECT_EQ(config.allowed_agents, (std::vector<std::string>{"agent-1", "agent-2"}));
  EXPECT_EQ(config.max_connections, 10u);
  EXPECT_EQ(config.idle_timeout_s, 60u);
  EXPECT_FALSE(config.plaintext_for_tests);
}

TEST(IngestConfigTest, ReportsFaultsWithLines) {
  ConfigErrors errors("collector.toml");
  parse("[ingest]\nlisten = \"nohost\"\nmax_connections = 0\ntls_kee = \"x\"\n", errors);
  std::string text = errors.to_string();
  EXPECT_NE(text.find("collector.toml:2"), std::string::npos) << text;  // listen
  EXPECT_NE(text.find("max_connections"), std::string::npos) << text;
  EXPECT_NE(text.find("tls_kee"), std::string::npos) << text;
  EXPECT_NE(text.find("allowed_agents is required"), std::string::npos) << text;
  EXPECT_NE(text.find("tls_ca is required"), std::string::npos) << text;
}

TEST(IngestConfigTest, PlaintextNeedsNoTlsFilesButAnAllowList) {
  ConfigErrors errors;
  IngestConfig config = parse("[ingest]\nplaintext_for_tests = true\nallowed_agents = [\"*\"]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_TRUE(config.plaintext_for_tests);
  ConfigErrors empty_list;
  parse("[ingest]\nplaintext_for_tests = true\nallowed_agents = []\n", empty_list);
  EXPECT_FALSE(empty_list.empty());
}

// A query-only collector needs no TLS files or allow-list, and any listener
// key beside enabled = false is an error at its line.
TEST(IngestConfigTest, DisabledNeedsNothingAndRefusesListenerKeys) {
  ConfigErrors errors("collector.toml");
  IngestConfig config = parse("[ingest]\nenabled = false\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_FALSE(config.enabled);
  ConfigErrors with_keys("collector.toml");
  parse("[ingest]\nenabled = false\nallowed_agents = [\"*\"]\nidle_timeout_s = 60\nbogus = 1\n", with_keys);
  const std::string text = with_keys.to_string();
  EXPECT_NE(text.find("collector.toml:3: [ingest] allowed_agents has no effect with enabled = false"),
            std::string::npos) << text;
  EXPECT_NE(text.find("collector.toml:4: [ingest] idle_timeout_s has no effect"), std::string::npos) << text;
  EXPECT_NE(text.find("bogus"), std::string::npos) << text;
  EXPECT_EQ(with_keys.errors().size(), 3u) << text;
  ConfigErrors enabled;
  EXPECT_TRUE(parse("[ingest]\nenabled = true\nplaintext_for_tests = true\nallowed_agents = [\"*\"]\n", enabled).enabled);
  EXPECT_TRUE(enabled.empty()) << enabled.to_string();
}

TEST(IngestConfigTest, AllowList) {
  EXPECT_TRUE(agent_allowed({"a", "b"}, "b"));
  EXPECT_FALSE(agent_allowed({"a", "b"}, "c"));
  EXPECT_FALSE(agent_allowed({"a"}, "A"));
  EXPECT_TRUE(agent_allowed({"*"}, "anyone"));
  EXPECT_FALSE(agent_allowed({"*"}, ""));
}

}  // namespace
}  // namespace ipattrib::collector
