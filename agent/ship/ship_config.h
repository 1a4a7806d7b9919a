// ShipConfig: the [ship] section — how the agent aggregates attributed
// requests into records, where it spools batches while no collector has
// acknowledged them, and which collectors it ships to (host:port, TLS files).
// The TLS paths are only recorded here; the transport opens them.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct CollectorAddress {
  std::string host;  // name or address; an IPv6 address without brackets
  std::uint16_t port = 0;
  friend bool operator==(const CollectorAddress&, const CollectorAddress&) = default;
};

struct ShipConfig {
  // Length of an aggregation window, by packet time.
  std::uint32_t flush_window_ms = 1000;
  // Open records per window (per worker); reaching it flushes early. At most
  // the wire's max_records_per_batch (100000).
  std::uint32_t max_records_per_window = 10000;
  // Ship requests no account rule matched under the reserved account "-"
  // (kUnattributedAccount); otherwise they are only counted.
  bool ship_unattributed = false;
  std::string spool_dir = "/var/lib/ipattrib/spool";
  // Disk spool bound; when full the oldest batches are dropped and counted.
  std::uint32_t max_spool_mb = 1024;
  // Tried in order (failover). Empty: the agent does not ship.
  std::vector<CollectorAddress> collectors;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Plaintext TCP to the collector, for tests only (the transport logs it loudly).
  bool plaintext_for_tests = false;
};

// "host:port", "[v6]:port"; false when malformed (no port, port 0 or > 65535,
// empty host, a bare IPv6 address without brackets).
bool parse_collector_address(std::string_view text, CollectorAddress& out);

// The collectors as the transport dials them: "host:port", "[v6]:port".
std::vector<std::string> collector_endpoints(const ShipConfig& config);

// Parses the [ship] table: records file:line errors, rejects unknown keys, and
// requires tls_ca, tls_cert and tls_key when collectors are listed unless
// plaintext_for_tests is set.
ShipConfig parse_ship_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
