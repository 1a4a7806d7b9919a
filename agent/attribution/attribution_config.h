// AttributionConfig: the [attribution] section — which peers are trusted
// proxies and which of their headers name the client, the ordered account
// rule chain, and the access-class rules. Example:
//
//   [attribution]
//   trusted_proxies   = ["10.0.0.0/8", "fd00::/8"]      # default: none (headers never trusted)
//   client_ip_headers = ["x-forwarded-for"]              # default: forwarded, x-forwarded-for, x-real-ip
//
//   [[attribution.account]]                               # first matching rule wins
//   type = "header"                                       # name = "X-Account-Id"
//   [[attribution.account]]
//   type = "path"                                         # template = "/v1/accounts/{account}/..."
//   [[attribution.account]]
//   type = "query"                                        # name = "account"
//   [[attribution.account]]
//   type = "jwt"                                          # claim = "account", principal_claim = "sub"
//   [[attribution.account]]
//   type = "api_key"                                      # header = "X-Api-Key" (default; or "Authorization")
//                                                         # key_file = "api-keys.tsv" (relative: to this file)
//
//   [[attribution.class]]                     # first match wins; default: GET/HEAD/OPTIONS access, else admin
//   methods = ["POST", "DELETE"]
//   path_prefix = "/admin"
//   class = "admin"
//
// List in client_ip_headers only headers your trusted proxies set (append
// to): the first configured header present in a request is the one used, so
// a header the proxies pass through untouched is written by the client.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/attribution/access_event.h"
#include "agent/attribution/api_key_table.h"
#include "agent/attribution/path_template.h"
#include "ipattrib/config_errors.h"
#include "ipattrib/ip_address.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

enum class ClientIpHeader : std::uint8_t { kForwarded, kXForwardedFor, kXRealIp };
enum class AccountRuleType : std::uint8_t { kHeader, kPath, kQuery, kJwt, kApiKey };

std::string_view to_string(ClientIpHeader header);  // "forwarded", "x-forwarded-for", "x-real-ip"
std::string_view to_string(AccountRuleType type);   // "header", "path", "query", "jwt", "api_key"

struct AccountRuleConfig {
  AccountRuleType type = AccountRuleType::kHeader;
  std::string name;                             // header: header name; query: parameter name; api_key: header name
  PathTemplate path_template;                   // path
  std::string account_claim;                    // jwt
  std::string principal_claim;                  // jwt; empty: no principal
  std::string key_file;                         // api_key
  std::shared_ptr<const ApiKeyTable> api_keys;  // api_key: loaded when the config is read
};

struct AccessClassRule {
  std::vector<std::string> methods;  // empty: any method; compared exactly (HTTP methods are case-sensitive)
  std::string path_prefix;           // empty: any path; matches whole segments ("/admin" not "/administrator")
  AccessClass access_class = AccessClass::kAdmin;
};

struct AttributionConfig {
  CidrSet trusted_proxies;
  std::vector<ClientIpHeader> client_ip_headers = {ClientIpHeader::kForwarded, ClientIpHeader::kXForwardedFor,
                                                   ClientIpHeader::kXRealIp};
  std::vector<AccountRuleConfig> account_rules;  // empty: no request has an account
  std::vector<AccessClassRule> class_rules;
};

AttributionConfig parse_attribution_config(const toml::table& section, ConfigErrors& errors);

// Command-line overrides (--account-header, --account-path): appended to the
// chain, so rules from the config file are tried first.
void add_header_account_rule(AttributionConfig& config, std::string_view header_name);
Status add_path_account_rule(AttributionConfig& config, std::string_view path_template);

}  // namespace ipattrib::agent
