// IngestConfig: the collector's [ingest] section — where it listens for
// agents, the TLS files of mutual authentication, which agent identities may
// ship, and the bounds that keep one agent from starving the others.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::collector {

struct IngestConfig {
  // enabled: false makes a query-only collector (analysts' API over a ledger
  // that other collectors fill); every other [ingest] key is then an error.
  bool enabled = true;
  std::string listen = "0.0.0.0:7443";  // listen: host:port ([v6]:port); port 0 = any free port (tests)
  std::string tls_ca;                   // tls_ca: CA that signs agent certificates (required unless plaintext)
  std::string tls_cert;                 // tls_cert: the collector's certificate chain (required unless plaintext)
  std::string tls_key;                  // tls_key: its private key (required unless plaintext)
  // allowed_agents: identities (certificate SAN DNS/URI or CN) that may ship;
  // ["*"] allows any agent holding a certificate from tls_ca. Required.
  std::vector<std::string> allowed_agents;
  std::uint32_t max_connections = 1024;  // max_connections, 1..65536: more are closed at once, and counted
  std::uint32_t idle_timeout_s = 300;    // idle_timeout_s, 5..86400: a silent connection is closed after this
  bool plaintext_for_tests = false;      // plaintext_for_tests: no TLS at all; logs a loud warning
};

// Parses the [ingest] table; records file:line errors and rejects unknown keys.
IngestConfig parse_ingest_config(const toml::table& section, ConfigErrors& errors);

// Whether an agent identity is on the allow-list ("*" admits every identity).
bool agent_allowed(const std::vector<std::string>& allowed_agents, const std::string& identity);

}  // namespace ipattrib::collector
