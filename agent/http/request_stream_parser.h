// RequestStreamParser: follows each client->server byte stream the flow table
// reassembles, finds every HTTP/1.x request head in it (pipelined or
// keep-alive), skips bodies without buffering them, and hands each head to a
// RequestSink. Per-flow progress lives in the flow's RequestStreamState; this
// object holds only configuration, reusable parse storage and counters, so one
// instance serves all flows of a worker.
//
// Stream rules: on a PROXY protocol listener the header must come first (else
// the flow is ignored: the agent must not guess the client). After CONNECT
// the stream is a tunnel; after an Upgrade request it is one only if the
// next bytes are not a request (the 101 answer is not captured). Heads are
// returned unconsumed until complete, so the flow table keeps their bytes;
// bodies and tunnels are consumed as they arrive. After a capture gap or
// framing it cannot trust, the parser resynchronises on the next line shaped
// like "METHOD SP target SP HTTP/1.". Results do not depend on how the bytes
// are split into deliveries.
#pragma once

#include <bitset>
#include <cstdint>

#include "agent/flow/client_stream_consumer.h"
#include "agent/http/http_config.h"
#include "agent/http/proxy_protocol_parser.h"
#include "agent/http/request_head_parser.h"
#include "agent/http/request_sink.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class RequestStreamParser : public ClientStreamConsumer {
 public:
  // `sink` must outlive the parser.
  RequestStreamParser(const HttpConfig& config, RequestSink& sink);

  bool is_client_to_server(const PacketView& segment) const override;
  bool wants_flow(const FlowEndpoints& endpoints) const override;
  std::size_t on_client_bytes(const FlowEndpoints& endpoints, RequestStreamState& state,
                              std::span<const std::uint8_t> data, std::int64_t ts_us) override;
  void on_gap(const FlowEndpoints& endpoints, RequestStreamState& state) override;

  // http.requests, http.not_http, http.resyncs, http.tunnels, http.bad_framing,
  // http.{body,tunnel,ignored,resync,empty_line}_bytes..., the head parser's
  // and the PROXY parser's counters, proxy.lost.
  void report(StatsSink& sink) const;

 private:
  struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t not_http = 0;
    std::uint64_t resyncs = 0;
    std::uint64_t tunnels = 0;
    std::uint64_t bad_framing = 0;
    std::uint64_t head_too_large = 0;    // no head end within max_head_bytes
    std::uint64_t bad_request_line = 0;  // first line rejected before the head completed
    std::uint64_t proxy_lost = 0;      // gap before the PROXY header was read
    std::uint64_t body_bytes_skipped = 0;
    std::uint64_t tunnel_bytes = 0;
    std::uint64_t ignored_bytes = 0;
    std::uint64_t resync_bytes_skipped = 0;
    std::uint64_t empty_line_bytes = 0;
  };
  // One step: how many bytes it consumed; kWait when it needs more bytes
  // (nothing consumed). A step consuming 0 bytes changes the phase.
  static constexpr std::size_t kWait = static_cast<std::size_t>(-1);

  struct Step;  // per-call inputs shared by the steps

  std::size_t step(const Step& in, RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t step_start(const Step& in, RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t step_head(const Step& in, RequestStreamState& state, std::span<const std::uint8_t> rest);
  // Bytes at a message start that are no request: not HTTP at all, or lost
  // sync. `line_end` bytes (the bad line, if complete) are skipped.
  std::size_t reject_start(RequestStreamState& state, std::size_t line_end);
  // A head starting the buffer, searched for and parsed in one pass.
  std::size_t step_whole_head(const Step& in, RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t deliver_head(const Step& in, RequestStreamState& state, std::span<const std::uint8_t> head);
  std::size_t deliver_parsed_head(const Step& in, RequestStreamState& state, const RequestHead& head,
                                  std::size_t size);
  std::size_t step_chunk_header(RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t step_chunk_data_end(RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t step_chunk_trailer(RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t step_resync(RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t skip_body(RequestStreamState& state, std::span<const std::uint8_t> rest);
  std::size_t wait(RequestStreamState& state, std::span<const std::uint8_t> rest, std::size_t rescan);
  // Enters kResync (counted); `at_line_start` says whether the next byte
  // begins a line. Returns `consumed` for use as a step result.
  std::size_t resync(RequestStreamState& state, bool at_line_start, std::size_t consumed);

  bool is_proxy_port(std::uint16_t port) const { return proxy_ports_.test(port); }
  bool looks_like_request(std::span<const std::uint8_t> payload) const;

  HttpConfig config_;
  RequestSink& sink_;
  std::bitset<65536> http_ports_;
  std::bitset<65536> proxy_ports_;
  RequestHeadParser head_parser_;
  ProxyProtocolParser proxy_parser_;
  Counters counters_;
};

}  // namespace ipattrib::agent
