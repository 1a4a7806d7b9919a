// generate_capture(): writes a synthetic API-gateway capture (pcap) and its
// ground truth — many IPv4/IPv6 clients, keep-alive connections, VLAN tags,
// a trusted forwarding proxy, split/reordered/retransmitted segments,
// bodies, pipelining and every kind of account carrier — and optionally the
// agent config and API-key file that match it. The same seed gives
// byte-identical files.
#pragma once

#include <cstdint>
#include <string>

#include "ipattrib/status.h"

namespace ipattrib::bench {

struct GeneratorOptions {
  std::string pcap_path;    // required
  std::string truth_path;   // optional: ground-truth TSV
  std::string config_path;  // optional: agent TOML config matching the traffic (needs keys_path)
  std::string keys_path;    // optional: API-key file, "<sha256 hex of key> <account>" per line
  std::uint64_t requests = 100000;
  std::uint64_t seed = 1;
  // Connections opened (handshake only) before the traffic and left open,
  // so the agent's flow table holds this many more flows while it reads the
  // requests: clients 10.64.0.0 + i (a range the traffic never uses), port
  // 40000, to the gateway's port 80.
  std::uint32_t idle_connections = 0;
  static constexpr std::uint32_t kMaxIdleConnections = 1u << 22;  // 10.64.0.0/10
};

struct GeneratorSummary {
  std::uint64_t packets = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;  // frame bytes
};

Status generate_capture(const GeneratorOptions& options, GeneratorSummary& summary);

// The agent config matching the generated traffic; `key_file` is written as given.
std::string agent_config_text(const std::string& key_file);

}  // namespace ipattrib::bench
