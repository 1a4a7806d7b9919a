// QueryClient: ipattribctl's connection to the collector's query API — one
// GET with the bearer token, its JSON decoded, and the HTTP outcome mapped to
// ipattribctl's exit codes. The token is sent, never printed.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace ipattrib::ctl {

// ipattribctl's exit codes (documented in docs/api.md).
enum ExitCode : int { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitNotFound = 3, kExitConflict = 4 };

struct ClientOptions {
  std::string url = "http://127.0.0.1:8470";  // scheme://host[:port]
  std::string token;
  std::string ca_cert;  // PEM bundle to verify an https server; "" = system default
};

// The outcome of one request: code kExitOk with the body, or the exit code
// and a one-line message for stderr.
struct Reply {
  int code = kExitOk;
  std::string body;
  std::string message;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);
// path (already encoded) + "?k=v&..." with encoded values; empty values are left out.
std::string path_with_query(const std::string& path, const QueryParams& params);

class QueryClient {
 public:
  explicit QueryClient(const ClientOptions& options);
  ~QueryClient();

  // 200 -> ok; 404 -> kExitNotFound; 409 -> kExitConflict; anything else
  // -> kExitError with the server's {"error": ...} message when it sent one.
  Reply get(const std::string& path_and_query);
  // get() and parse the body as JSON.
  Reply get_json(const std::string& path_and_query, nlohmann::json& out);
  // POST `body` as JSON and parse the answer; 200 and 202 are ok, the rest
  // as for get(). A 409's body (e.g. the alert as it stands) is kept in out.
  Reply post_json(const std::string& path, const nlohmann::json& body, nlohmann::json& out);

 private:
  std::unique_ptr<httplib::Client> client_;
  std::string setup_error_;
};

}  // namespace ipattrib::ctl
