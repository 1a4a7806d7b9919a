// The path of an API request as segments: split on the raw (still
// percent-encoded) target so an account id holding an encoded '/' stays one
// segment, then each segment percent-decoded once.
#pragma once

#include <string>
#include <vector>

namespace ipattrib::collector {

// "/v1/accounts/a%2Fb/ips?x" -> {"v1", "accounts", "a/b", "ips"}. False on a
// malformed percent-escape.
bool split_request_path(const std::string& target, std::vector<std::string>& segments);

}  // namespace ipattrib::collector
