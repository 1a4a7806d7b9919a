#include "agent/reload/agent_reload.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace ipattrib::agent {
namespace {

toml::table parse(std::string_view text) { return toml::parse(text); }

TEST(SettingsNeedingRestart, NothingWhenTheFileIsTheSame) {
  const char* text = "[agent]\nid = \"a\"\n[capture]\ninterface = \"eth0\"\n";
  EXPECT_TRUE(settings_needing_restart(parse(text), parse(text), true).empty());
}

TEST(SettingsNeedingRestart, NamesWholeSectionsThatCannotReload) {
  auto changed = settings_needing_restart(parse("[capture]\ninterface = \"eth0\"\n"),
                                          parse("[capture]\ninterface = \"eth1\"\n[http]\nports = [80]\n"), true);
  EXPECT_EQ(changed, (std::vector<std::string>{"[capture]", "[http]"}));
}

TEST(SettingsNeedingRestart, ShipTransportAndStatsIntervalAreLive) {
  auto running = parse(
      "[agent]\nid = \"a\"\nstats_interval_s = 60\n"
      "[ship]\ncollectors = [\"c1:7000\"]\ntls_ca = \"ca\"\ntls_cert = \"c\"\ntls_key = \"k\"\nflush_window_ms = 1000\n");
  auto next = parse(
      "[agent]\nid = \"b\"\nstats_interval_s = 5\n"
      "[ship]\ncollectors = [\"c2:7000\"]\ntls_ca = \"ca2\"\ntls_cert = \"c2\"\ntls_key = \"k2\"\n"
      "flush_window_ms = 500\n");
  EXPECT_EQ(settings_needing_restart(running, next, true),
            (std::vector<std::string>{"[agent] id", "[ship] flush_window_ms"}));
}

TEST(SettingsNeedingRestart, CollectorsNeedARestartWhenTheAgentDoesNotShip) {
  EXPECT_EQ(settings_needing_restart(parse(""), parse("[ship]\ncollectors = [\"c1:7000\"]\n"), false),
            (std::vector<std::string>{"[ship]"}));
}

class MapSink final : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

class AgentReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("agent_reload_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    options_.config_path = (dir_ / "agent.toml").string();
    ASSERT_TRUE(geo_.open());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(options_.config_path, std::ios::trunc) << text; }
  std::map<std::string, std::uint64_t> counters(const AgentReload& reload) {
    MapSink sink;
    reload.report(sink);
    return sink.values;
  }

  std::filesystem::path dir_;
  AgentOptions options_;
  GeoResolver geo_{GeoConfig{}};
};

TEST_F(AgentReloadTest, AppliesTheNewStatsInterval) {
  write("[agent]\nstats_interval_s = 60\n[capture]\ninterface = \"lo\"\n");
  AgentConfig running = default_agent_config();
  ASSERT_TRUE(build_config(options_, running));
  AgentReload reload(options_);
  write("[agent]\nstats_interval_s = 7\n[capture]\ninterface = \"eth9\"\n");
  int stats_interval_s = running.stats_interval_s;
  Status s = reload.reload(geo_, nullptr, stats_interval_s);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(stats_interval_s, 7);
  EXPECT_EQ(counters(reload)["agent.reloads"], 1u);
  EXPECT_EQ(counters(reload)["agent.reload_failures"], 0u);
}

TEST_F(AgentReloadTest, ABadFileChangesNothingAndSaysWhereWithFileAndLine) {
  write("[agent]\nstats_interval_s = 60\n[capture]\ninterface = \"lo\"\n");
  AgentConfig running = default_agent_config();
  ASSERT_TRUE(build_config(options_, running));
  AgentReload reload(options_);
  write("[agent]\nstats_interval_s = 7\nno_such_key = 1\n[capture]\ninterface = \"lo\"\n");
  int stats_interval_s = 60;
  Status s = reload.reload(geo_, nullptr, stats_interval_s);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find(options_.config_path + ":3:"), std::string::npos) << s.message();
  EXPECT_EQ(stats_interval_s, 60);
  EXPECT_EQ(counters(reload)["agent.reload_failures"], 1u);
}

}  // namespace
}  // namespace ipattrib::agent
