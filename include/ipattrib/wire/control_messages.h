// Bodies of the small control frames (HELLO, HELLO_ACK, ACK, ERROR): typed
// values and their encoders/decoders. The encoders append a whole frame; the
// decoders take a frame body and reject anything malformed, oversize or
// followed by trailing bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipattrib/status.h"
#include "ipattrib/wire/frame.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::wire {

// Agent -> collector, first frame of a connection.
struct Hello {
  std::string agent_id;          // must match the identity in the agent's certificate
  std::string gateway;           // default gateway name of this agent (informational)
  std::string software_version;  // e.g. "ipattrib-agent 0.1.0"
  std::uint64_t lowest_unacked_sequence = 0;   // oldest batch the agent still holds; 0 = none
  std::uint64_t highest_unacked_sequence = 0;  // newest batch the agent still holds; 0 = none
  friend bool operator==(const Hello&, const Hello&) = default;
};

// Collector -> agent: where this agent's stream stands in the ledger.
struct HelloAck {
  std::uint64_t highest_committed_sequence = 0;  // 0 = nothing committed for this agent yet
  std::uint32_t max_frame_bytes = 0;             // the collector's frame limit
  std::string software_version;
  friend bool operator==(const HelloAck&, const HelloAck&) = default;
};

// Collector -> agent: every batch with sequence <= this one is durably committed.
struct Ack {
  std::uint64_t sequence = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};

struct WireError {
  WireErrorCode code = WireErrorCode::kMalformedFrame;
  std::string message;  // human-readable, for logs; never parsed
  friend bool operator==(const WireError&, const WireError&) = default;
};

Status encode_hello(const Hello& hello, std::vector<std::uint8_t>& out_frame, const WireLimits& limits = WireLimits());
Status decode_hello(std::span<const std::uint8_t> body, Hello& hello, const WireLimits& limits = WireLimits());

Status encode_hello_ack(const HelloAck& ack, std::vector<std::uint8_t>& out_frame,
                        const WireLimits& limits = WireLimits());
Status decode_hello_ack(std::span<const std::uint8_t> body, HelloAck& ack, const WireLimits& limits = WireLimits());

Status encode_ack(const Ack& ack, std::vector<std::uint8_t>& out_frame);
Status decode_ack(std::span<const std::uint8_t> body, Ack& ack);

// A message longer than limits.max_string_bytes is cut (at a UTF-8 boundary)
// rather than refused: an error must always be sendable.
Status encode_error(const WireError& error, std::vector<std::uint8_t>& out_frame,
                    const WireLimits& limits = WireLimits());
Status decode_error(std::span<const std::uint8_t> body, WireError& error, const WireLimits& limits = WireLimits());

}  // namespace ipattrib::wire
