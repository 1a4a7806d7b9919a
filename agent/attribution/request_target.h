// The path and query parts of an HTTP request-target, as views into it, so
// that account and class rules see the same path whether the client used
// origin-form ("/a?b") or absolute-form ("http://host/a?b", as sent to
// proxies). Authority-form (CONNECT) and asterisk-form have no path.
#pragma once

#include <string_view>

namespace ipattrib::agent {

// "/v1/x" for "/v1/x?y#z" and "http://h:80/v1/x?y"; "/" for "http://h";
// empty when the target has no path.
std::string_view request_path(std::string_view target);

// "a=1&b=2" for "/p?a=1&b=2#f"; empty when there is no query.
std::string_view request_query(std::string_view target);

}  // namespace ipattrib::agent
