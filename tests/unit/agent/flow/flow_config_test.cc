#include "agent/flow/flow_config.h"

#include <gtest/gtest.h>

namespace ipattrib::agent {
namespace {

FlowConfig parse(std::string_view text, ConfigErrors& errors) {
  const toml::table root = toml::parse(text);
  return parse_flow_config(*root["flow"].as_table(), errors);
}

TEST(FlowConfigTest, EmptySectionKeepsDefaults) {
  ConfigErrors errors("agent.toml");
  const FlowConfig config = parse("[flow]\n", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(config.max_flows, 262144u);
  EXPECT_EQ(config.max_buffered_bytes_per_flow, 16384u);
  EXPECT_EQ(config.max_out_of_order_bytes, 32768u);
  EXPECT_EQ(config.max_total_buffer_bytes, std::size_t{256} << 20);
  EXPECT_EQ(config.idle_timeout_s, 120);
}

TEST(FlowConfigTest, ReadsEveryKey) {
  ConfigErrors errors("agent.toml");
  const FlowConfig config = parse(
      "[flow]\nmax_flows = 1000\nmax_buffered_bytes_per_flow = 8192\nmax_out_of_order_bytes = 0\n"
      "max_total_buffer_mb = 64\nidle_timeout_s = 30\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(config.max_flows, 1000u);
  EXPECT_EQ(config.max_buffered_bytes_per_flow, 8192u);
  EXPECT_EQ(config.max_out_of_order_bytes, 0u);
  EXPECT_EQ(config.max_total_buffer_bytes, std::size_t{64} << 20);
  EXPECT_EQ(config.idle_timeout_s, 30);
}

TEST(FlowConfigTest, RejectsBadValuesWithTheirLine) {
  ConfigErrors errors("agent.toml");
  const FlowConfig config = parse(
      "[flow]\nmax_flows = 0\nmax_total_buffer_mb = \"lots\"\nidle_timeout_s = -5\nmax_flow = 3\n", errors);
  ASSERT_EQ(errors.errors().size(), 4u) << errors.to_string();
  EXPECT_NE(errors.to_string().find("agent.toml:2:"), std::string::npos);
  EXPECT_NE(errors.to_string().find("agent.toml:3:"), std::string::npos);
  EXPECT_NE(errors.to_string().find("agent.toml:4:"), std::string::npos);
  EXPECT_NE(errors.to_string().find("max_flow"), std::string::npos);
  EXPECT_EQ(config.max_flows, 262144u);  // bad values leave defaults
}

}  // namespace
}  // namespace ipattrib::agent
