#include "agent/attribution/access_class_rules.h"

#include <algorithm>

namespace ipattrib::agent {

bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

AccessClass AccessClassRules::classify(std::string_view method, std::string_view path) const {
  for (const AccessClassRule& rule : rules_) {
    if (!rule.methods.empty() && std::find(rule.methods.begin(), rule.methods.end(), method) == rule.methods.end()) {
      continue;
    }
    if (!rule.path_prefix.empty() && !path_has_prefix(path, rule.path_prefix)) continue;
    return rule.access_class;
  }
  const bool safe = method == "GET" || method == "HEAD" || method == "OPTIONS";
  return safe ? AccessClass::kAccess : AccessClass::kAdmin;
}

}  // namespace ipattrib::agent
