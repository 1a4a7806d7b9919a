// ApiConfig: the collector's [api] section — where the query API listens,
// which bearer tokens it accepts (as SHA-256 hashes, so the config file does
// not hold usable secrets), and optional TLS.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ipattrib/config_errors.h"
#include "ipattrib/listen_address.h"  // split_listen_address, for [api] listen

namespace ipattrib::collector {

struct ApiConfig {
  std::string listen = "127.0.0.1:8470";  // listen: "host:port", "[v6]:port"
  // token_sha256: lowercase hex SHA-256 of each accepted bearer token
  // (`printf %s TOKEN | sha256sum`). Empty: every /v1 request is refused.
  std::vector<std::string> token_sha256;
  std::string tls_cert;                // tls_cert: PEM path; with tls_key, serve HTTPS
  std::string tls_key;                 // tls_key: PEM path
  bool metrics_require_token = false;  // metrics_require_token
  std::uint32_t max_page = 1000;       // max_page: largest page a client may ask for, 1..100000
};

// Parses the [api] table; records file:line errors and rejects unknown keys.
ApiConfig parse_api_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::collector
