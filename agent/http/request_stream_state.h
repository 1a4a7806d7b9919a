// RequestStreamState: what the HTTP request-stream parser remembers about one
// client->server byte stream between deliveries. It lives inside the flow
// table's entry (no allocation per flow beyond the entry itself), so it must
// stay small and trivially copyable.
#pragma once

#include <cstdint>
#include <type_traits>

#include "ipattrib/ip_address.h"

namespace ipattrib::agent {

// Addresses announced by a PROXY protocol v1/v2 header on this connection.
struct ProxiedAddresses {
  bool present = false;  // false also for PROXY "LOCAL"/"UNKNOWN"
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
};

struct RequestStreamState {
  enum class Phase : std::uint8_t {
    kStart,         // nothing seen yet (PROXY header may come first)
    kHead,          // expecting / accumulating a request head
    kBody,          // skipping body_remaining bytes (Content-Length)
    kChunkHeader,   // chunked body: reading a chunk-size line
    kChunkData,     // chunked body: skipping body_remaining bytes
    kChunkDataEnd,  // chunked body: the CRLF that ends a chunk's data
    kChunkTrailer,  // chunked body: trailer section until empty line
    kResync,        // after a gap: scanning for the next request line
    kTunnel,        // after CONNECT / Upgrade: not HTTP any more
    kIgnored,       // not HTTP: every byte is dropped cheaply
  };
  Phase phase = Phase::kStart;
  // A request line was accepted at a message start (a head was delivered or
  // resync found one): from then on garbage means lost sync, not "not HTTP".
  bool seen_http = false;
  // The last request asked for an Upgrade: if the next bytes are not a
  // request the server accepted it and the stream is a tunnel; if they are,
  // it declined and HTTP/1.x goes on.
  bool upgrade_pending = false;
  // kResync: the next byte starts a line, so it may start a request line.
  bool at_line_start = true;
  // While waiting for more bytes (nothing consumed), how many leading bytes
  // of the kept buffer were already searched: byte-at-a-time delivery stays
  // linear instead of rescanning the whole buffer each time.
  std::uint32_t scanned = 0;
  std::uint64_t body_remaining = 0;
  std::uint32_t requests_seen = 0;
  ProxiedAddresses proxy;
};

static_assert(std::is_trivially_copyable_v<RequestStreamState>);

}  // namespace ipattrib::agent
