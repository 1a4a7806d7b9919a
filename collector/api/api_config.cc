#include "collector/api/api_config.h"

#include <algorithm>
#include <cctype>

namespace ipattrib::collector {
namespace {

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ApiConfig parse_api_config(const toml::table& section, ConfigErrors& errors) {
  ApiConfig config;
  errors.reject_unknown_keys(
      section, {"listen", "token_sha256", "tls_cert", "tls_key", "metrics_require_token", "max_page"}, "[api]");
  if (auto listen = errors.get_string(section, "listen")) {
    std::string host;
    int port = 0;
    if (!split_listen_address(*listen, host, port)) {
      errors.add_at(*section.get("listen"),
                    "[api] listen must be \"host:port\" or \"[v6]:port\" (got \"" + *listen + "\")");
    } else {
      config.listen = *listen;
    }
  }
  if (auto tokens = errors.get_string_array(section, "token_sha256")) {
    for (const std::string& t : *tokens) {
      if (!is_sha256_hex(t)) {
        // The value is not echoed: it may be a token pasted by mistake.
        errors.add_at(*section.get("token_sha256"), "[api] token_sha256 entries must be 64 hex digits (a SHA-256)");
        continue;
      }
      config.token_sha256.push_back(lowercase(t));
    }
  }
  if (auto cert = errors.get_string(section, "tls_cert")) config.tls_cert = *cert;
  if (auto key = errors.get_string(section, "tls_key")) config.tls_key = *key;
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    errors.add_at(section, "[api] tls_cert and tls_key must be given together");
  }
  if (auto b = errors.get_bool(section, "metrics_require_token")) config.metrics_require_token = *b;
  if (auto n = errors.get_int(section, "max_page", 1, 100000)) config.max_page = static_cast<std::uint32_t>(*n);
  return config;
}

}  // namespace ipattrib::collector
