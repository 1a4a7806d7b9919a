// AccessClassRules: decides whether a request administers an account (admin)
// or only uses it (access). Configured rules are tried in order, the first
// match wins; without a match, safe methods (GET, HEAD, OPTIONS) are access
// and everything else — anything that may change state — is admin.
#pragma once

#include <string_view>
#include <vector>

#include "agent/attribution/access_event.h"
#include "agent/attribution/attribution_config.h"

namespace ipattrib::agent {

class AccessClassRules {
 public:
  explicit AccessClassRules(const std::vector<AccessClassRule>& rules) : rules_(rules) {}

  // `path` as returned by request_path() (no query).
  AccessClass classify(std::string_view method, std::string_view path) const;

 private:
  std::vector<AccessClassRule> rules_;
};

// True when `path` is `prefix` or continues it with a new segment.
bool path_has_prefix(std::string_view path, std::string_view prefix);

}  // namespace ipattrib::agent
