#include "agent/attribution/attribution_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/http/request_head.h"

namespace ipattrib::agent {
namespace {

constexpr ClientIpHeader kAllClientIpHeaders[] = {ClientIpHeader::kForwarded, ClientIpHeader::kXForwardedFor,
                                                  ClientIpHeader::kXRealIp};
constexpr AccountRuleType kAllRuleTypes[] = {AccountRuleType::kHeader, AccountRuleType::kPath, AccountRuleType::kQuery,
                                             AccountRuleType::kJwt, AccountRuleType::kApiKey};

// Calls `visit(string, node)` per element so errors can name the element's line.
template <typename Visit>
void for_each_string(const toml::table& table, std::string_view key, ConfigErrors& errors, Visit&& visit) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(*node, fmt::format("'{}' must be an array of strings", key));
    return;
  }
  for (const toml::node& element : *array) {
    if (const auto* s = element.as_string()) {
      visit(s->get(), element);
    } else {
      errors.add_at(element, fmt::format("'{}' must contain only strings", key));
    }
  }
}

// Calls `visit(table)` per element of an array of tables ([[section.key]]).
template <typename Visit>
void for_each_table(const toml::table& section, std::string_view key, ConfigErrors& errors, Visit&& visit) {
  const toml::node* node = section.get(key);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(*node, fmt::format("'{}' must be an array of tables ([[attribution.{}]])", key, key));
    return;
  }
  for (const toml::node& element : *array) {
    if (const auto* t = element.as_table()) {
      visit(*t);
    } else {
      errors.add_at(element, fmt::format("every '{}' entry must be a table", key));
    }
  }
}

std::string required_string(const toml::table& rule, std::string_view key, std::string_view where,
                            ConfigErrors& errors) {
  const auto value = errors.get_string(rule, key);
  if (value && !value->empty()) return *value;
  if (!value && rule.get(key) != nullptr) return {};  // wrong type, already reported
  errors.add_at(rule, fmt::format("{} needs a non-empty '{}'", where, key));
  return {};
}

std::string resolve_against_config_dir(const std::string& path, const std::string& config_file) {
  if (path.empty() || path.front() == '/') return path;
  const std::size_t slash = config_file.rfind('/');
  if (slash == std::string::npos) return path;
  return config_file.substr(0, slash + 1) + path;
}

void load_api_keys(AccountRuleConfig& rule, const toml::node& where, ConfigErrors& errors) {
  std::vector<ApiKeyTable::LoadError> load_errors;
  rule.api_keys = std::make_shared<const ApiKeyTable>(ApiKeyTable::load(rule.key_file, load_errors));
  for (const auto& e : load_errors) {
    if (e.line == 0)
      errors.add_at(where, fmt::format("{}: {}", rule.key_file, e.message));
    else
      errors.add_at(where, fmt::format("{}:{}: {}", rule.key_file, e.line, e.message));
  }
}

void parse_rule_fields(const toml::table& rule, AccountRuleConfig& out, ConfigErrors& errors) {
  switch (out.type) {
    case AccountRuleType::kHeader:
      errors.reject_unknown_keys(rule, {"type", "name"}, "a header account rule");
      out.name = required_string(rule, "name", "a header account rule", errors);
      return;
    case AccountRuleType::kQuery:
      errors.reject_unknown_keys(rule, {"type", "name"}, "a query account rule");
      out.name = required_string(rule, "name", "a query account rule", errors);
      return;
    case AccountRuleType::kPath: {
      errors.reject_unknown_keys(rule, {"type", "template"}, "a path account rule");
      const std::string text = required_string(rule, "template", "a path account rule", errors);
      if (text.empty()) return;
      std::string error;
      if (auto t = PathTemplate::parse(text, error))
        out.path_template = std::move(*t);
      else
        errors.add_at(*rule.get("template"), fmt::format("'template': {}", error));
      return;
    }
    case AccountRuleType::kJwt:
      errors.reject_unknown_keys(rule, {"type", "claim", "principal_claim"}, "a jwt account rule");
      out.account_claim = required_string(rule, "claim", "a jwt account rule", errors);
      if (auto v = errors.get_string(rule, "principal_claim")) out.principal_claim = *v;
      return;
    case AccountRuleType::kApiKey: {
      errors.reject_unknown_keys(rule, {"type", "header", "key_file"}, "an api_key account rule");
      out.name = "X-Api-Key";
      if (auto v = errors.get_string(rule, "header")) {
        if (v->empty())
          errors.add_at(*rule.get("header"), "'header' must not be empty");
        else
          out.name = *v;
      }
      const std::string file = required_string(rule, "key_file", "an api_key account rule", errors);
      if (file.empty()) return;
      out.key_file = resolve_against_config_dir(file, errors.file());
      load_api_keys(out, *rule.get("key_file"), errors);
      return;
    }
  }
}

void parse_account_rule(const toml::table& rule, AttributionConfig& config, ConfigErrors& errors) {
  const auto type_name = errors.get_string(rule, "type");
  if (!type_name) {
    if (rule.get("type") == nullptr)
      errors.add_at(rule, "account rule needs a 'type' (header, path, query, jwt, api_key)");
    return;
  }
  const auto* type = std::find_if(std::begin(kAllRuleTypes), std::end(kAllRuleTypes),
                                  [&](AccountRuleType t) { return to_string(t) == *type_name; });
  if (type == std::end(kAllRuleTypes)) {
    errors.add_at(*rule.get("type"),
                  fmt::format("unknown account rule type '{}' (header, path, query, jwt, api_key)", *type_name));
    return;
  }
  AccountRuleConfig out;
  out.type = *type;
  const std::size_t before = errors.errors().size();
  parse_rule_fields(rule, out, errors);
  if (errors.errors().size() == before) config.account_rules.push_back(std::move(out));
}

void parse_class_rule(const toml::table& rule, AttributionConfig& config, ConfigErrors& errors) {
  errors.reject_unknown_keys(rule, {"methods", "path_prefix", "class"}, "an [[attribution.class]] rule");
  AccessClassRule out;
  for_each_string(rule, "methods", errors, [&](const std::string& method, const toml::node& node) {
    if (method.empty() || method.find_first_of(" \t/") != std::string::npos) {
      errors.add_at(node, fmt::format("'{}' is not an HTTP method", method));
    }
    out.methods.push_back(method);
  });
  if (auto prefix = errors.get_string(rule, "path_prefix")) {
    if (prefix->empty() || prefix->front() != '/')
      errors.add_at(*rule.get("path_prefix"), "'path_prefix' must start with '/'");
    out.path_prefix = *prefix;
  }
  const auto access_class = errors.get_string(rule, "class");
  if (!access_class) {
    if (rule.get("class") == nullptr)
      errors.add_at(rule, "an [[attribution.class]] rule needs 'class' (admin or access)");
  } else if (*access_class == "admin") {
    out.access_class = AccessClass::kAdmin;
  } else if (*access_class == "access") {
    out.access_class = AccessClass::kAccess;
  } else {
    errors.add_at(*rule.get("class"), fmt::format("'class' must be admin or access, got '{}'", *access_class));
  }
  config.class_rules.push_back(std::move(out));
}

}  // namespace

std::string_view to_string(ClientIpHeader header) {
  switch (header) {
    case ClientIpHeader::kForwarded: return "forwarded";
    case ClientIpHeader::kXForwardedFor: return "x-forwarded-for";
    case ClientIpHeader::kXRealIp: return "x-real-ip";
  }
  return "forwarded";
}

std::string_view to_string(AccountRuleType type) {
  switch (type) {
    case AccountRuleType::kHeader: return "header";
    case AccountRuleType::kPath: return "path";
    case AccountRuleType::kQuery: return "query";
    case AccountRuleType::kJwt: return "jwt";
    case AccountRuleType::kApiKey: return "api_key";
  }
  return "header";
}

AttributionConfig parse_attribution_config(const toml::table& section, ConfigErrors& errors) {
  AttributionConfig config;
  errors.reject_unknown_keys(section, {"trusted_proxies", "client_ip_headers", "account", "class"}, "[attribution]");
  for_each_string(section, "trusted_proxies", errors, [&](const std::string& text, const toml::node& node) {
    if (auto cidr = Cidr::parse(text))
      config.trusted_proxies.add(*cidr);
    else
      errors.add_at(node, fmt::format("trusted_proxies: '{}' is not an address or CIDR", text));
  });
  if (section.get("client_ip_headers") != nullptr) {
    config.client_ip_headers.clear();
    for_each_string(section, "client_ip_headers", errors, [&](const std::string& name, const toml::node& node) {
      const auto* header = std::find_if(std::begin(kAllClientIpHeaders), std::end(kAllClientIpHeaders),
                                        [&](ClientIpHeader h) { return equals_ignore_case(to_string(h), name); });
      if (header == std::end(kAllClientIpHeaders)) {
        errors.add_at(
            node, fmt::format("client_ip_headers: unknown header '{}' (forwarded, x-forwarded-for, x-real-ip)", name));
      } else if (std::find(config.client_ip_headers.begin(), config.client_ip_headers.end(), *header) !=
                 config.client_ip_headers.end()) {
        errors.add_at(node, fmt::format("client_ip_headers: '{}' is listed twice", name));
      } else {
        config.client_ip_headers.push_back(*header);
      }
    });
  }
  for_each_table(section, "account", errors,
                 [&](const toml::table& rule) { parse_account_rule(rule, config, errors); });
  for_each_table(section, "class", errors, [&](const toml::table& rule) { parse_class_rule(rule, config, errors); });
  return config;
}

void add_header_account_rule(AttributionConfig& config, std::string_view header_name) {
  AccountRuleConfig rule;
  rule.type = AccountRuleType::kHeader;
  rule.name = std::string(header_name);
  config.account_rules.push_back(std::move(rule));
}

Status add_path_account_rule(AttributionConfig& config, std::string_view path_template) {
  std::string error;
  auto parsed = PathTemplate::parse(path_template, error);
  if (!parsed) return Status::error(error);
  AccountRuleConfig rule;
  rule.type = AccountRuleType::kPath;
  rule.path_template = std::move(*parsed);
  config.account_rules.push_back(std::move(rule));
  return Status::ok();
}

}  // namespace ipattrib::agent
