// SimulatedConnection: one TCP connection between a client (or the trusted
// proxy) and the gateway, from handshake through keep-alive requests and
// responses to teardown. Each step() writes one burst of packets, so the
// generator can interleave many connections. Request bytes are split across
// segments, some reordered, duplicated or overlapping, the way a real capture
// shows them; each request's ground-truth row is written when the segment
// that completes its head (in order) is written.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench/generator/delivered_prefix.h"
#include "bench/generator/frame_encoder.h"
#include "bench/generator/generation_context.h"

namespace ipattrib::bench {

struct ConnectionPlan {
  HostAddress peer;  // socket client: the end user, or the proxy
  std::uint16_t peer_port = 0;
  HostAddress server;
  std::uint16_t server_port = 0;
  SimulatedClient* client = nullptr;  // the end user; nullptr when the peer is the proxy
  std::uint32_t requests = 0;
  bool stays_open = false;  // with no requests: after the handshake, silence (no FIN)
  LinkTags tags;
  bool ipv6_destination_options = false;
  bool tcp_timestamps = false;
  std::uint32_t client_isn = 0;
  std::uint32_t server_isn = 0;
};

class SimulatedConnection {
 public:
  explicit SimulatedConnection(const ConnectionPlan& plan);

  // Writes the next burst; returns false once the connection is closed.
  bool step(GenerationContext& ctx);

 private:
  enum class Phase { kSyn, kSynAck, kAck, kRequests, kResponses, kClose1, kClose2, kClose3, kDone };
  struct PendingHead {
    std::uint64_t end_offset;  // client stream offset just past the head
    std::string columns;       // truth row without ts
  };

  void send_requests(GenerationContext& ctx);
  void send_responses(GenerationContext& ctx);
  void close_step(GenerationContext& ctx);
  void plan_segments(GenerationContext& ctx, std::size_t first_head_length);
  void send_client_data(GenerationContext& ctx, std::size_t begin, std::size_t end);
  void send_client_control(GenerationContext& ctx, std::uint8_t flags);
  void send_server_control(GenerationContext& ctx, std::uint8_t flags);
  std::uint32_t client_seq() const { return plan_.client_isn + 1 + static_cast<std::uint32_t>(client_sent_); }
  std::uint32_t server_seq() const { return plan_.server_isn + 1 + static_cast<std::uint32_t>(server_sent_); }
  std::uint32_t ts_value(const GenerationContext& ctx) const { return static_cast<std::uint32_t>(ctx.now_us / 1000); }

  ConnectionPlan plan_;
  FrameEncoder to_server_;
  FrameEncoder to_client_;
  Phase phase_ = Phase::kSyn;
  std::uint32_t close_style_ = 0;
  std::uint64_t client_sent_ = 0;  // client data bytes before the current batch
  std::uint64_t server_sent_ = 0;
  std::uint32_t client_fin_ = 0;   // 1 once the client's FIN consumed a sequence number
  std::uint32_t server_fin_ = 0;
  DeliveredPrefix delivered_;
  std::vector<PendingHead> pending_heads_;
  std::string batch_;                                         // client bytes of the current burst
  std::vector<std::pair<std::size_t, std::size_t>> segments_;  // ranges of batch_, in send order
  std::vector<std::string_view> batch_methods_;               // to shape the responses
  GeneratedRequest request_;
  std::string response_;
};

}  // namespace ipattrib::bench
