// ClientStreamConsumer: what the flow table hands reassembled client->server
// bytes to (the HTTP request-stream parser, in the agent). Only that
// direction is reassembled; server->client payload is skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "agent/decode/packet_view.h"
#include "agent/http/request_stream_state.h"
#include "ipattrib/ip_address.h"

namespace ipattrib::agent {

struct FlowEndpoints {
  IpAddress client_ip;
  IpAddress server_ip;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
};

class ClientStreamConsumer {
 public:
  virtual ~ClientStreamConsumer() = default;

  // For a flow whose handshake was not seen: does this first data segment
  // travel client->server? (By configured server port, or because it starts
  // like a request line / PROXY header.) If neither direction qualifies the
  // flow table counts the packet and keeps the flow undecided.
  virtual bool is_client_to_server(const PacketView& segment) const = 0;

  // For a flow opened by a SYN: is it worth tracking at all (server port is a
  // configured HTTP port, or ports = "any")?
  virtual bool wants_flow(const FlowEndpoints& endpoints) const = 0;

  // `data` is contiguous, in-order client bytes: first the bytes left
  // unconsumed by the previous call, then the new ones. Returns how many
  // leading bytes were consumed; the rest are kept (within the flow table's
  // per-flow bound) and offered again with the next in-order bytes.
  // ts_us is the capture time of the segment that delivered the last byte.
  virtual std::size_t on_client_bytes(const FlowEndpoints& endpoints, RequestStreamState& state,
                                      std::span<const std::uint8_t> data, std::int64_t ts_us) = 0;

  // Client bytes were lost (capture gap, out-of-order buffer overflow, or
  // buffered bytes evicted): `state` must resynchronise.
  virtual void on_gap(const FlowEndpoints& endpoints, RequestStreamState& state) = 0;
};

}  // namespace ipattrib::agent
