#include "agent/attribution/account_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "tests/unit/agent/attribution/request_fixture.h"

namespace ipattrib::agent {
namespace {

using testing::make_jwt;
using testing::RequestFixture;

constexpr const char* kDigestOfTest =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";  // sha256("test")

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

AccountRuleConfig header_rule(std::string name) {
  AccountRuleConfig r;
  r.type = AccountRuleType::kHeader;
  r.name = std::move(name);
  return r;
}

AccountRuleConfig path_rule(std::string_view text) {
  AttributionConfig c;
  EXPECT_TRUE(add_path_account_rule(c, text));
  return c.account_rules.at(0);
}

AccountRuleConfig query_rule(std::string name) {
  AccountRuleConfig r;
  r.type = AccountRuleType::kQuery;
  r.name = std::move(name);
  return r;
}

AccountRuleConfig jwt_rule(std::string claim, std::string principal) {
  AccountRuleConfig r;
  r.type = AccountRuleType::kJwt;
  r.account_claim = std::move(claim);
  r.principal_claim = std::move(principal);
  return r;
}

AccountRuleConfig api_key_rule(std::string header) {
  AccountRuleConfig r;
  r.type = AccountRuleType::kApiKey;
  r.name = std::move(header);
  std::vector<ApiKeyTable::LoadError> errors;
  r.api_keys =
      std::make_shared<const ApiKeyTable>(ApiKeyTable::parse(std::string(kDigestOfTest) + " acme ci-bot\n", errors));
  EXPECT_TRUE(errors.empty());
  return r;
}

// Matches one request against `rules`; returns "account|principal|type" or "none".
std::string attribute(const std::vector<AccountRuleConfig>& rules, RequestFixture& request) {
  AccountRules chain(rules);
  AccountMatch m;
  if (!chain.match(request.head(), m)) return "none";
  return std::string(m.account) + "|" + std::string(m.principal) + "|" + std::string(to_string(m.rule_type));
}

TEST(AccountRulesTest, NoRulesNoAccount) {
  RequestFixture r;
  EXPECT_EQ(attribute({}, r), "none");
}

TEST(AccountRulesTest, HeaderRule) {
  RequestFixture r;
  r.header("x-account-id", "  acme \t");
  EXPECT_EQ(attribute({header_rule("X-Account-Id")}, r), "acme||header");
  RequestFixture empty;
  empty.header("X-Account-Id", "   ");
  EXPECT_EQ(attribute({header_rule("X-Account-Id")}, empty), "none");
  RequestFixture control;
  control.header("X-Account-Id", std::string("ac\x01me"));
  EXPECT_EQ(attribute({header_rule("X-Account-Id")}, control), "none");
}

TEST(AccountRulesTest, PathRuleStripsQueryAndHandlesAbsoluteForm) {
  const auto rule = path_rule("/v1/accounts/{account}/...");
  RequestFixture q("GET", "/v1/accounts/acme/servers?account=evil");
  EXPECT_EQ(attribute({rule}, q), "acme||path");
  RequestFixture absolute("GET", "http://api.example/v1/accounts/globex?x=1");
  EXPECT_EQ(attribute({rule}, absolute), "globex||path");
  RequestFixture other("GET", "/v2/accounts/acme");
  EXPECT_EQ(attribute({rule}, other), "none");
  RequestFixture star("OPTIONS", "*");
  EXPECT_EQ(attribute({rule}, star), "none");
}

TEST(AccountRulesTest, PathRulePercentDecodes) {
  const auto rule = path_rule("/v1/accounts/{account}");
  RequestFixture encoded("GET", "/v1/accounts/acme%2Dcorp/");
  EXPECT_EQ(attribute({rule}, encoded), "acme-corp||path");
  RequestFixture plus("GET", "/v1/accounts/a+b");
  EXPECT_EQ(attribute({rule}, plus), "a+b||path");
  RequestFixture bad("GET", "/v1/accounts/acme%zz");
  EXPECT_EQ(attribute({rule}, bad), "none");
  RequestFixture nul("GET", "/v1/accounts/acme%00");
  EXPECT_EQ(attribute({rule}, nul), "none");
}

TEST(AccountRulesTest, QueryRule) {
  const auto rule = query_rule("account");
  RequestFixture plain("GET", "/x?foo=1&account=acme&account=evil");
  EXPECT_EQ(attribute({rule}, plain), "acme||query");
  RequestFixture encoded("GET", "/x?account=acme%20corp+inc#frag");
  EXPECT_EQ(attribute({rule}, encoded), "acme corp inc||query");
  RequestFixture prefix("GET", "/x?my_account=evil&accounts=evil");
  EXPECT_EQ(attribute({rule}, prefix), "none");
  RequestFixture empty("GET", "/x?account=&account=acme");
  EXPECT_EQ(attribute({rule}, empty), "none");  // first occurrence decides
  RequestFixture bare("GET", "/x?account");
  EXPECT_EQ(attribute({rule}, bare), "none");
  RequestFixture bad("GET", "/x?account=%4");
  EXPECT_EQ(attribute({rule}, bad), "none");
  RequestFixture none("GET", "/x");
  EXPECT_EQ(attribute({rule}, none), "none");
}

TEST(AccountRulesTest, JwtRuleAndInvalidCounter) {
  const auto rule = jwt_rule("account", "sub");
  RequestFixture good;
  good.header("Authorization", "Bearer " + make_jwt(R"({"account":"acme","sub":"alice"})"));
  EXPECT_EQ(attribute({rule}, good), "acme|alice|jwt");
  RequestFixture lower_scheme;
  lower_scheme.header("authorization", "bearer " + make_jwt(R"({"account":42})"));
  EXPECT_EQ(attribute({rule}, lower_scheme), "42||jwt");
  RequestFixture basic;
  basic.header("Authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(attribute({rule}, basic), "none");

  AccountRules chain({rule});
  AccountMatch m;
  RequestFixture bad;
  bad.header("Authorization", "Bearer a.!!!.c");
  EXPECT_FALSE(chain.match(bad.head(), m));
  RequestFixture opaque;
  opaque.header("Authorization", "Bearer opaque-token");
  EXPECT_FALSE(chain.match(opaque.head(), m));
  CounterMap counters;
  chain.report(counters);
  EXPECT_EQ(counters.values.at("attribution.jwt_invalid"), 1u);
}

TEST(AccountRulesTest, ApiKeyRuleInHeaderAndAuthorization) {
  RequestFixture header;
  header.header("X-Api-Key", "test");
  EXPECT_EQ(attribute({api_key_rule("X-Api-Key")}, header), "acme|ci-bot|api_key");
  RequestFixture bearer;
  bearer.header("Authorization", "Bearer test");
  EXPECT_EQ(attribute({api_key_rule("Authorization")}, bearer), "acme|ci-bot|api_key");
  RequestFixture raw_authorization;
  raw_authorization.header("Authorization", "test");
  EXPECT_EQ(attribute({api_key_rule("Authorization")}, raw_authorization), "none");

  AccountRules chain({api_key_rule("X-Api-Key")});
  AccountMatch m;
  RequestFixture unknown;
  unknown.header("X-Api-Key", "wrong");
  EXPECT_FALSE(chain.match(unknown.head(), m));
  CounterMap counters;
  chain.report(counters);
  EXPECT_EQ(counters.values.at("attribution.api_key_unknown"), 1u);
}

TEST(AccountRulesTest, FirstMatchingRuleWins) {
  const std::vector<AccountRuleConfig> rules = {header_rule("X-Account-Id"), path_rule("/v1/accounts/{account}/..."),
                                                jwt_rule("account", "sub")};
  RequestFixture both("GET", "/v1/accounts/from-path/x");
  both.header("X-Account-Id", "from-header").header("Authorization", "Bearer " + make_jwt(R"({"account":"jwt"})"));
  EXPECT_EQ(attribute(rules, both), "from-header||header");
  RequestFixture path_only("GET", "/v1/accounts/from-path/x");
  path_only.header("Authorization", "Bearer " + make_jwt(R"({"account":"jwt"})"));
  EXPECT_EQ(attribute(rules, path_only), "from-path||path");
  RequestFixture jwt_only("GET", "/other");
  jwt_only.header("Authorization", "Bearer " + make_jwt(R"({"account":"jwt"})"));
  EXPECT_EQ(attribute(rules, jwt_only), "jwt||jwt");

  AccountRules chain(rules);
  AccountMatch m;
  EXPECT_TRUE(chain.match(both.head(), m));
  EXPECT_TRUE(chain.match(path_only.head(), m));
  EXPECT_TRUE(chain.match(path_only.head(), m));
  CounterMap counters;
  chain.report(counters);
  EXPECT_EQ(counters.values.at("attribution.by_rule.header"), 1u);
  EXPECT_EQ(counters.values.at("attribution.by_rule.path"), 2u);
  EXPECT_EQ(counters.values.at("attribution.by_rule.jwt"), 0u);
}

}  // namespace
}  // namespace ipattrib::agent
