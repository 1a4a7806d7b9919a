// Test doubles for the flow table: a consumer that records what it is given
// and builders for TCP segments between one client and one server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "agent/decode/packet_view.h"
#include "agent/flow/client_stream_consumer.h"

namespace ipattrib::agent::testing {

// Records delivered bytes per client port. In head mode it consumes only up to
// the last "\r\n\r\n", like the HTTP parser waiting for a whole request head.
class RecordingConsumer : public ClientStreamConsumer {
 public:
  std::uint16_t server_port = 80;
  bool head_mode = false;
  std::size_t extra_consumed = 0;  // claims this many bytes more than given
  std::map<std::uint16_t, std::string> streams;
  std::map<std::uint16_t, int> gaps;
  const std::uint8_t* last_data = nullptr;
  int calls = 0;

  bool is_client_to_server(const PacketView& segment) const override { return segment.dst_port == server_port; }
  bool wants_flow(const FlowEndpoints& endpoints) const override { return endpoints.server_port == server_port; }

  std::size_t on_client_bytes(const FlowEndpoints& endpoints, RequestStreamState& state,
                              std::span<const std::uint8_t> data, std::int64_t) override {
    ++calls;
    last_data = data.data();
    ++state.requests_seen;
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::size_t used = text.size();
    if (head_mode) {
      const std::size_t end = text.rfind("\r\n\r\n");
      used = end == std::string_view::npos ? 0 : end + 4;
    }
    streams[endpoints.client_port].append(text.substr(0, used));
    return used + extra_consumed;
  }

  void on_gap(const FlowEndpoints& endpoints, RequestStreamState&) override { ++gaps[endpoints.client_port]; }
};

// Segments of one connection; payload strings are kept alive by the caller.
struct Connection {
  IpAddress client = IpAddress::from_v4(0x0a000001);
  IpAddress server = IpAddress::from_v4(0x0a000002);
  std::uint16_t client_port = 40000;
  std::uint16_t server_port = 80;
  std::uint32_t client_isn = 1000;
  std::uint32_t server_isn = 5000;

  PacketView from_client(std::uint32_t seq, std::string_view payload, std::uint8_t flags = kTcpAck,
                         std::int64_t ts_us = 0) const {
    return make(client, server, client_port, server_port, seq, payload, flags, ts_us);
  }
  PacketView from_server(std::uint32_t seq, std::string_view payload, std::uint8_t flags = kTcpAck,
                         std::int64_t ts_us = 0) const {
    return make(server, client, server_port, client_port, seq, payload, flags, ts_us);
  }
  PacketView syn(std::int64_t ts_us = 0) const { return from_client(client_isn, "", kTcpSyn, ts_us); }
  PacketView syn_ack(std::int64_t ts_us = 0) const {
    PacketView p = from_server(server_isn, "", kTcpSyn | kTcpAck, ts_us);
    p.ack = client_isn + 1;
    return p;
  }
  // Client data at `offset` bytes into the stream (after the SYN).
  PacketView data(std::uint32_t offset, std::string_view payload, std::int64_t ts_us = 0) const {
    return from_client(client_isn + 1 + offset, payload, kTcpAck | kTcpPsh, ts_us);
  }

 private:
  static PacketView make(const IpAddress& src, const IpAddress& dst, std::uint16_t sport, std::uint16_t dport,
                         std::uint32_t seq, std::string_view payload, std::uint8_t flags, std::int64_t ts_us) {
    PacketView p;
    p.ts_us = ts_us;
    p.src = src;
    p.dst = dst;
    p.src_port = sport;
    p.dst_port = dport;
    p.seq = seq;
    p.tcp_flags = flags;
    p.payload = {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()};
    return p;
  }
};

}  // namespace ipattrib::agent::testing
