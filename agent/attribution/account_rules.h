// AccountRules: the ordered account rule chain — header, path template, query
// parameter, JWT claim, API key — where the first rule that yields an account
// wins. One instance per Attributor (per worker): it owns the scratch
// buffers that decoded identifiers live in, so matching never allocates
// (except inside the JSON parser for JWT payloads) and results stay valid
// until the next match().
//
// Secret inputs (bearer tokens, API keys) are only read here; what leaves is
// the account/principal they map to, never the secret itself.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/attribution/attribution_config.h"
#include "agent/attribution/id_text.h"
#include "agent/attribution/jwt_claims.h"
#include "agent/attribution/sha256_hasher.h"
#include "agent/http/request_head.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct AccountMatch {
  std::string_view account;
  std::string_view principal;  // empty when the rule gives none
  AccountRuleType rule_type = AccountRuleType::kHeader;
};

class AccountRules {
 public:
  explicit AccountRules(const std::vector<AccountRuleConfig>& rules);
  AccountRules(const AccountRules&) = delete;
  AccountRules& operator=(const AccountRules&) = delete;

  // True and `out` filled when a rule yields an account. Views point into
  // `head` or into this object's buffers.
  bool match(const RequestHead& head, AccountMatch& out);
  // The same, with request_path(head.target) already at hand (the
  // Attributor needs it for the access class too).
  bool match(const RequestHead& head, std::string_view path, AccountMatch& out);

  // attribution.by_rule.<type>, attribution.jwt_invalid, attribution.api_key_unknown,
  // attribution.account_value_rejected
  void report(StatsSink& sink) const;

 private:
  bool match_rule(const AccountRuleConfig& rule, const RequestHead& head, std::string_view path, AccountMatch& out);
  bool match_header(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out);
  bool match_path(const AccountRuleConfig& rule, std::string_view path, AccountMatch& out);
  bool match_query(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out);
  bool match_jwt(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out);
  bool match_api_key(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out);

  std::vector<AccountRuleConfig> rules_;
  IdText account_;
  IdText principal_;
  JwtClaimReader jwt_;
  Sha256Hasher sha256_;
  std::array<std::uint64_t, 5> by_rule_{};
  std::uint64_t jwt_invalid_ = 0;
  std::uint64_t api_key_unknown_ = 0;
  std::uint64_t value_rejected_ = 0;
};

}  // namespace ipattrib::agent
