// [agent] metrics_listen and --metrics-listen: accepted forms, errors at the
// file's line, the command line overriding the file, and a SIGHUP that
// changes it reported as taking effect at the next restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/agent_options.h"
#include "agent/config/agent_config.h"
#include "agent/reload/agent_reload.h"

namespace ipattrib::agent {
namespace {

class MetricsListenConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("metrics_listen_config_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  bool load(const std::string& text, AgentConfig& config, std::string& errors) {
    std::ofstream(path_, std::ios::trunc) << text;
    AgentOptions options;
    options.config_path = path_;
    options.read_file = "unused.pcap";
    options.metrics_listen = cli_;
    config = default_agent_config();
    return build_config(options, config, errors);
  }
  std::string path_;
  std::optional<std::string> cli_;
};

TEST_F(MetricsListenConfigTest, OffByDefault) {
  AgentConfig config;
  std::string errors;
  ASSERT_TRUE(load("[agent]\n", config, errors)) << errors;
  EXPECT_EQ(config.metrics_listen, "");
}

TEST_F(MetricsListenConfigTest, AcceptsHostPortAndBracketedV6) {
  for (const char* listen : {"127.0.0.1:9464", "[::1]:9464", "0.0.0.0:1", "localhost:65535", "[::]:9464", ""}) {
    AgentConfig config;
    std::string errors;
    ASSERT_TRUE(load(std::string("[agent]\nmetrics_listen = \"") + listen + "\"\n", config, errors)) << errors;
    EXPECT_EQ(config.metrics_listen, listen);
  }
}

TEST_F(MetricsListenConfigTest, RejectsBadValuesAtTheirLine) {
  for (const char* value :
       {"\"9464\"", "\"::1:9464\"", "\"127.0.0.1:0\"", "\"127.0.0.1:99999\"", "\"host:\"", "9464"}) {
    AgentConfig config;
    std::string errors;
    EXPECT_FALSE(load(std::string("[agent]\nid = \"a\"\nmetrics_listen = ") + value + "\n", config, errors)) << value;
    EXPECT_NE(errors.find(path_ + ":3: "), std::string::npos) << errors;
    EXPECT_NE(errors.find("metrics_listen"), std::string::npos) << errors;
    EXPECT_EQ(config.metrics_listen, "");
  }
}

TEST_F(MetricsListenConfigTest, TheCommandLineOverridesTheFile) {
  AgentConfig config;
  std::string errors;
  cli_ = "[::1]:9999";
  ASSERT_TRUE(load("[agent]\nmetrics_listen = \"127.0.0.1:9464\"\n", config, errors)) << errors;
  EXPECT_EQ(config.metrics_listen, "[::1]:9999");
  cli_ = "";  // --metrics-listen "": off, whatever the file says
  ASSERT_TRUE(load("[agent]\nmetrics_listen = \"127.0.0.1:9464\"\n", config, errors)) << errors;
  EXPECT_EQ(config.metrics_listen, "");
  cli_ = "nonsense";
  EXPECT_FALSE(load("[agent]\n", config, errors));
  EXPECT_NE(errors.find("--metrics-listen: metrics_listen must be"), std::string::npos) << errors;
}

TEST(MetricsListenReloadTest, AChangeTakesEffectAtTheNextRestart) {
  const toml::table running = toml::parse("[agent]\nmetrics_listen = \"127.0.0.1:9464\"\n");
  const toml::table next = toml::parse("[agent]\nmetrics_listen = \"127.0.0.1:9465\"\n");
  EXPECT_EQ(settings_needing_restart(running, next, false), (std::vector<std::string>{"[agent] metrics_listen"}));
  EXPECT_EQ(settings_needing_restart(running, toml::parse("[agent]\n"), true),
            (std::vector<std::string>{"[agent] metrics_listen"}));
}

}  // namespace
}  // namespace ipattrib::agent
