#include "agent/http/http_config.h"

#include <gtest/gtest.h>

#include <string>

namespace ipattrib::agent {
namespace {

HttpConfig parse(const std::string& toml_text, ConfigErrors& errors) {
  const toml::table root = toml::parse(toml_text);
  const toml::table* section = root["http"].as_table();
  static const toml::table kEmpty;
  return parse_http_config(section != nullptr ? *section : kEmpty, errors);
}

TEST(HttpConfigTest, DefaultsWhenSectionIsEmpty) {
  ConfigErrors errors("agent.toml");
  const HttpConfig config = parse("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(config.any_port);
  EXPECT_TRUE(config.proxy_protocol_ports.empty());
  EXPECT_EQ(config.max_head_bytes, 16384u);
  EXPECT_EQ(config.max_headers, 100u);
}

TEST(HttpConfigTest, ReadsEveryKey) {
  ConfigErrors errors("agent.toml");
  const HttpConfig config = parse(
      "[http]\nports = [80, 8080]\nproxy_protocol_ports = [8443]\nmax_head_bytes = 8192\nmax_headers = 50\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_FALSE(config.any_port);
  EXPECT_EQ(config.ports, (std::vector<std::uint16_t>{80, 8080}));
  EXPECT_EQ(config.proxy_protocol_ports, (std::vector<std::uint16_t>{8443}));
  EXPECT_EQ(config.max_head_bytes, 8192u);
  EXPECT_EQ(config.max_headers, 50u);
  EXPECT_TRUE(parse("[http]\nports = \"any\"\n", errors).any_port);
}

TEST(HttpConfigTest, RejectsBadValuesWithLineNumbers) {
  ConfigErrors errors("agent.toml");
  parse("[http]\nports = \"some\"\n", errors);
  parse("[http]\nports = [0]\n", errors);
  parse("[http]\nports = [65536]\n", errors);
  parse("[http]\nports = []\n", errors);
  parse("[http]\nports = 80\n", errors);
  parse("[http]\nproxy_protocol_ports = [\"x\"]\n", errors);
  parse("[http]\nmax_head_bytes = 10\n", errors);
  parse("[http]\nmax_headers = 0\n", errors);
  parse("[http]\nmax_header = 5\n", errors);  // typo
  ASSERT_EQ(errors.errors().size(), 9u) << errors.to_string();
  for (const ConfigError& e : errors.errors()) EXPECT_EQ(e.line, 2u) << e.to_string();
  EXPECT_NE(errors.errors().back().message.find("max_header"), std::string::npos);
}

}  // namespace
}  // namespace ipattrib::agent
