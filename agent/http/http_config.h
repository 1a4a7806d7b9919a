// HttpConfig: the [http] section — which TCP ports carry plaintext HTTP/1.x
// requests, which listeners expect a PROXY protocol header first, and the
// limits that bound what one request head may cost.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct HttpConfig {
  // ports = "any": every TCP flow is a candidate; a stream that does not
  // start like a request is dropped cheaply (http.not_http).
  bool any_port = true;
  std::vector<std::uint16_t> ports;  // used when !any_port
  // Listeners behind a PROXY v1/v2 speaking load balancer. Also tracked when
  // `ports` is a list that does not name them.
  std::vector<std::uint16_t> proxy_protocol_ports;
  std::size_t max_head_bytes = 16384;  // request line + headers + blank line
  std::size_t max_headers = 100;
};

// Reads `[http]`: ports ("any" or an array of 1-65535), proxy_protocol_ports
// (array), max_head_bytes (256-1048576), max_headers (1-10000). Unknown keys
// and bad values are recorded in `errors`; defaults are kept for them.
HttpConfig parse_http_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
