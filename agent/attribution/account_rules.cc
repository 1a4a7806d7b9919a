#include "agent/attribution/account_rules.h"

#include <string>

#include "agent/attribution/forwarding_entry.h"
#include "agent/attribution/request_target.h"

namespace ipattrib::agent {
namespace {

// "Bearer <credentials>" -> credentials (scheme is case-insensitive); empty otherwise.
std::string_view bearer_credentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !equals_ignore_case(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  const char separator = authorization[kScheme.size()];
  if (separator != ' ' && separator != '\t') return {};
  return trim_ows(authorization.substr(kScheme.size() + 1));
}

// The raw value of the first `name=value` pair in a query string.
std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name) continue;
    return equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
  }
  return std::nullopt;
}

std::size_t index_of(AccountRuleType type) { return static_cast<std::size_t>(type); }

}  // namespace

AccountRules::AccountRules(const std::vector<AccountRuleConfig>& rules) : rules_(rules) {}

bool AccountRules::match(const RequestHead& head, AccountMatch& out) {
  return match(head, request_path(head.target), out);
}

bool AccountRules::match(const RequestHead& head, std::string_view path, AccountMatch& out) {
  for (const AccountRuleConfig& rule : rules_) {
    out = AccountMatch{};
    out.rule_type = rule.type;
    if (match_rule(rule, head, path, out)) {
      ++by_rule_[index_of(rule.type)];
      return true;
    }
  }
  out = AccountMatch{};
  return false;
}

bool AccountRules::match_rule(const AccountRuleConfig& rule, const RequestHead& head, std::string_view path,
                              AccountMatch& out) {
  switch (rule.type) {
    case AccountRuleType::kHeader: return match_header(rule, head, out);
    case AccountRuleType::kPath: return match_path(rule, path, out);
    case AccountRuleType::kQuery: return match_query(rule, head, out);
    case AccountRuleType::kJwt: return match_jwt(rule, head, out);
    case AccountRuleType::kApiKey: return match_api_key(rule, head, out);
  }
  return false;
}

bool AccountRules::match_header(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out) {
  const HttpHeader* header = head.find(rule.name);
  if (header == nullptr) return false;
  const std::string_view value = trim_ows(header->value);
  if (value.empty()) return false;
  if (!is_acceptable_id(value)) {
    ++value_rejected_;
    return false;
  }
  out.account = value;
  return true;
}

bool AccountRules::match_path(const AccountRuleConfig& rule, std::string_view path, AccountMatch& out) {
  const auto segment = rule.path_template.match(path);
  if (!segment) return false;
  if (segment->find('%') == std::string_view::npos) {
    if (!is_acceptable_id(*segment)) {
      ++value_rejected_;
      return false;
    }
    out.account = *segment;
    return true;
  }
  // In a path '+' is a literal plus, not a space.
  if (!account_.assign_percent_decoded(*segment, false)) {
    ++value_rejected_;
    return false;
  }
  out.account = account_.view();
  return true;
}

bool AccountRules::match_query(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out) {
  const auto value = query_parameter(request_query(head.target), rule.name);
  if (!value || value->empty()) return false;
  if (value->find_first_of("%+") == std::string_view::npos) {
    if (!is_acceptable_id(*value)) {
      ++value_rejected_;
      return false;
    }
    out.account = *value;
    return true;
  }
  if (!account_.assign_percent_decoded(*value, true)) {
    ++value_rejected_;
    return false;
  }
  out.account = account_.view();
  return true;
}

bool AccountRules::match_jwt(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out) {
  const HttpHeader* authorization = head.find("Authorization");
  if (authorization == nullptr) return false;
  const std::string_view token = bearer_credentials(authorization->value);
  if (token.empty()) return false;
  switch (jwt_.read(token, rule.account_claim, rule.principal_claim, account_, principal_)) {
    case JwtClaimReader::Result::kFound:
      out.account = account_.view();
      out.principal = principal_.view();
      return true;
    case JwtClaimReader::Result::kInvalid: ++jwt_invalid_; return false;
    case JwtClaimReader::Result::kNotJwt:
    case JwtClaimReader::Result::kMissingClaim: return false;
  }
  return false;
}

bool AccountRules::match_api_key(const AccountRuleConfig& rule, const RequestHead& head, AccountMatch& out) {
  if (rule.api_keys == nullptr) return false;
  const HttpHeader* header = head.find(rule.name);
  if (header == nullptr) return false;
  std::string_view key = trim_ows(header->value);
  if (equals_ignore_case(rule.name, "Authorization")) key = bearer_credentials(key);
  if (key.empty()) return false;
  Sha256Digest digest;
  if (!sha256_.digest(key, digest)) return false;
  const ApiKeyOwner* owner = rule.api_keys->find(digest);
  if (owner == nullptr) {
    ++api_key_unknown_;
    return false;
  }
  out.account = owner->account;
  out.principal = owner->principal;
  return true;
}

void AccountRules::report(StatsSink& sink) const {
  static constexpr AccountRuleType kTypes[] = {AccountRuleType::kHeader, AccountRuleType::kPath,
                                               AccountRuleType::kQuery, AccountRuleType::kJwt,
                                               AccountRuleType::kApiKey};
  static constexpr std::string_view kNames[] = {"attribution.by_rule.header", "attribution.by_rule.path",
                                                "attribution.by_rule.query", "attribution.by_rule.jwt",
                                                "attribution.by_rule.api_key"};
  for (AccountRuleType type : kTypes) sink.counter(kNames[index_of(type)], by_rule_[index_of(type)]);
  sink.counter("attribution.jwt_invalid", jwt_invalid_);
  sink.counter("attribution.api_key_unknown", api_key_unknown_);
  sink.counter("attribution.account_value_rejected", value_rejected_);
}

}  // namespace ipattrib::agent
