#include "agent/attribution/attribution_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace ipattrib::agent {
namespace {

constexpr const char* kDigestOfTest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

AttributionConfig parse(std::string_view text, ConfigErrors& errors) {
  const toml::table root = toml::parse(text, std::string_view("agent.toml"));
  const toml::table* section = root["attribution"].as_table();
  static const toml::table kEmpty;
  return parse_attribution_config(section != nullptr ? *section : kEmpty, errors);
}

TEST(AttributionConfigTest, Defaults) {
  ConfigErrors errors("agent.toml");
  const AttributionConfig c = parse("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(c.trusted_proxies.empty());
  EXPECT_EQ(c.client_ip_headers,
            (std::vector<ClientIpHeader>{ClientIpHeader::kForwarded, ClientIpHeader::kXForwardedFor,
                                         ClientIpHeader::kXRealIp}));
  EXPECT_TRUE(c.account_rules.empty());
  EXPECT_TRUE(c.class_rules.empty());
}

TEST(AttributionConfigTest, FullSection) {
  ConfigErrors errors("agent.toml");
  const AttributionConfig c = parse(R"(
[attribution]
trusted_proxies = ["10.0.0.0/8", "fd00::/8", "192.0.2.1"]
client_ip_headers = ["X-Forwarded-For", "forwarded"]

[[attribution.account]]
type = "header"
name = "X-Account-Id"

[[attribution.account]]
type = "path"
template = "/v1/accounts/{account}/..."

[[attribution.account]]
type = "query"
name = "account"

[[attribution.account]]
type = "jwt"
claim = "account"
principal_claim = "sub"

[[attribution.class]]
methods = ["POST"]
path_prefix = "/v1/search"
class = "access"

[[attribution.class]]
path_prefix = "/admin"
class = "admin"
)",
                                    errors);
  ASSERT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.trusted_proxies.cidrs().size(), 3u);
  EXPECT_TRUE(c.trusted_proxies.contains(*IpAddress::parse("10.20.30.40")));
  EXPECT_EQ(c.client_ip_headers,
            (std::vector<ClientIpHeader>{ClientIpHeader::kXForwardedFor, ClientIpHeader::kForwarded}));
  ASSERT_EQ(c.account_rules.size(), 4u);
  EXPECT_EQ(c.account_rules[0].type, AccountRuleType::kHeader);
  EXPECT_EQ(c.account_rules[0].name, "X-Account-Id");
  EXPECT_EQ(c.account_rules[1].path_template.text(), "/v1/accounts/{account}/...");
  EXPECT_EQ(c.account_rules[2].name, "account");
  EXPECT_EQ(c.account_rules[3].account_claim, "account");
  EXPECT_EQ(c.account_rules[3].principal_claim, "sub");
  ASSERT_EQ(c.class_rules.size(), 2u);
  EXPECT_EQ(c.class_rules[0].methods, std::vector<std::string>{"POST"});
  EXPECT_EQ(c.class_rules[0].access_class, AccessClass::kAccess);
  EXPECT_TRUE(c.class_rules[1].methods.empty());
  EXPECT_EQ(c.class_rules[1].access_class, AccessClass::kAdmin);
}

TEST(AttributionConfigTest, ErrorsCarryLines) {
  ConfigErrors errors("agent.toml");
  parse(R"([attribution]
trusted_proxies = ["10.0.0.0/8",
  "10.0.0.0/33", 7]
client_ip_headers = ["x-forwarded-for", "true-client-ip", "X-Forwarded-For"]
trusted_proxy = []

[[attribution.account]]
type = "cookie"

[[attribution.account]]
type = "header"
nmae = "X-Account-Id"

[[attribution.account]]
type = "path"
template = "/v1/accounts"

[[attribution.account]]
name = "x"

[[attribution.class]]
methods = ["POST"]
class = "superuser"
path_prefix = "admin"
)",
        errors);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("agent.toml:3: trusted_proxies: '10.0.0.0/33'"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:3: 'trusted_proxies' must contain only strings"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:4: client_ip_headers: unknown header 'true-client-ip'"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:4: client_ip_headers: 'X-Forwarded-For' is listed twice"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:5: unknown key 'trusted_proxy' in [attribution]"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:8: unknown account rule type 'cookie'"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:12: unknown key 'nmae'"), std::string::npos) << all;
  EXPECT_NE(all.find("needs a non-empty 'name'"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:16: 'template': path template has no {account}"), std::string::npos) << all;
  EXPECT_NE(all.find("needs a 'type'"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:23: 'class' must be admin or access"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:24: 'path_prefix' must start with '/'"), std::string::npos) << all;
}

TEST(AttributionConfigTest, WrongShapes) {
  ConfigErrors errors("agent.toml");
  parse(R"([attribution]
trusted_proxies = "10.0.0.0/8"
account = { type = "header", name = "X" }
class = [1]
)",
        errors);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("agent.toml:2: 'trusted_proxies' must be an array"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:3: 'account' must be an array of tables"), std::string::npos) << all;
  EXPECT_NE(all.find("agent.toml:4: every 'class' entry must be a table"), std::string::npos) << all;
}

class ApiKeyConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir();
    if (dir_.back() != '/') dir_ += '/';
    key_file_ = dir_ + "attribution_config_keys.tsv";
  }
  void TearDown() override { std::remove(key_file_.c_str()); }
  std::string dir_;
  std::string key_file_;
};

TEST_F(ApiKeyConfigTest, LoadsKeyFileRelativeToTheConfig) {
  std::ofstream(key_file_) << "# keys\n" << kDigestOfTest << " acme bot\n";
  ConfigErrors errors(dir_ + "agent.toml");
  const AttributionConfig c = parse(R"(
[[attribution.account]]
type = "api_key"
key_file = "attribution_config_keys.tsv"
)",
                                    errors);
  ASSERT_TRUE(errors.empty()) << errors.to_string();
  ASSERT_EQ(c.account_rules.size(), 1u);
  EXPECT_EQ(c.account_rules[0].name, "X-Api-Key");
  EXPECT_EQ(c.account_rules[0].key_file, key_file_);
  ASSERT_NE(c.account_rules[0].api_keys, nullptr);
  EXPECT_EQ(c.account_rules[0].api_keys->size(), 1u);
}

TEST_F(ApiKeyConfigTest, KeyFileErrorsNameTheKeyFileLine) {
  std::ofstream(key_file_) << kDigestOfTest << " acme\n\nnot-a-digest acme\n";
  ConfigErrors errors("agent.toml");
  parse("[[attribution.account]]\ntype = \"api_key\"\nheader = \"Authorization\"\nkey_file = \"" + key_file_ + "\"\n",
        errors);
  ASSERT_EQ(errors.errors().size(), 1u) << errors.to_string();
  EXPECT_EQ(errors.errors()[0].line, 4u);
  EXPECT_NE(errors.errors()[0].message.find(key_file_ + ":3: first field is not a SHA-256 digest"), std::string::npos)
      << errors.to_string();
}

TEST_F(ApiKeyConfigTest, MissingKeyFileIsAnError) {
  ConfigErrors errors("agent.toml");
  parse("[[attribution.account]]\ntype = \"api_key\"\nkey_file = \"/nonexistent/keys.tsv\"\n", errors);
  EXPECT_NE(errors.to_string().find("agent.toml:3: /nonexistent/keys.tsv: cannot read"), std::string::npos)
      << errors.to_string();
}

TEST(AttributionOverridesTest, HeaderAndPathRulesAppend) {
  AttributionConfig c;
  add_header_account_rule(c, "X-Tenant");
  EXPECT_TRUE(add_path_account_rule(c, "/t/{account}/..."));
  const Status bad = add_path_account_rule(c, "/t/none");
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.message().find("{account}"), std::string::npos);
  ASSERT_EQ(c.account_rules.size(), 2u);
  EXPECT_EQ(c.account_rules[0].type, AccountRuleType::kHeader);
  EXPECT_EQ(c.account_rules[0].name, "X-Tenant");
  EXPECT_EQ(c.account_rules[1].type, AccountRuleType::kPath);
}

}  // namespace
}  // namespace ipattrib::agent
