#include "bench/generator/simulated_connection.h"

#include <fmt/format.h>

#include <algorithm>

namespace ipattrib::bench {
namespace {

constexpr std::size_t kMss = 1400;

}  // namespace

SimulatedConnection::SimulatedConnection(const ConnectionPlan& plan)
    : plan_(plan),
      to_server_(plan.peer, plan.peer_port, plan.server, plan.server_port, plan.tags, true,
                 plan.ipv6_destination_options, plan.tcp_timestamps),
      to_client_(plan.server, plan.server_port, plan.peer, plan.peer_port, plan.tags, false,
                 plan.ipv6_destination_options, plan.tcp_timestamps) {}

bool SimulatedConnection::step(GenerationContext& ctx) {
  switch (phase_) {
    case Phase::kSyn: {
      TcpSegment s{tcp_flag::kSyn, plan_.client_isn, 0, nullptr, 0, ts_value(ctx)};
      to_server_.write(ctx.pcap, ctx.tick(), s);
      phase_ = Phase::kSynAck;
      break;
    }
    case Phase::kSynAck: {
      TcpSegment s{tcp_flag::kSyn | tcp_flag::kAck, plan_.server_isn, plan_.client_isn + 1, nullptr, 0,
                   ts_value(ctx)};
      to_client_.write(ctx.pcap, ctx.tick(), s);
      phase_ = Phase::kAck;
      break;
    }
    case Phase::kAck:
      send_client_control(ctx, tcp_flag::kAck);
      if (plan_.requests > 0) {
        phase_ = Phase::kRequests;
      } else {
        phase_ = plan_.stays_open ? Phase::kDone : Phase::kClose1;
      }
      break;
    case Phase::kRequests:
      send_requests(ctx);
      phase_ = Phase::kResponses;
      break;
    case Phase::kResponses:
      send_responses(ctx);
      phase_ = plan_.requests > 0 ? Phase::kRequests : Phase::kClose1;
      break;
    case Phase::kClose1:
    case Phase::kClose2:
    case Phase::kClose3:
      close_step(ctx);
      break;
    case Phase::kDone:
      break;
  }
  return phase_ != Phase::kDone;
}

void SimulatedConnection::send_requests(GenerationContext& ctx) {
  const std::uint32_t count = plan_.requests >= 2 && ctx.random.percent(8) ? 2 : 1;  // pipelined pair
  batch_.clear();
  batch_methods_.clear();
  std::size_t first_head_length = 0;
  for (std::uint32_t k = 0; k < count; ++k) {
    std::vector<SimulatedClient>& clients = ctx.population.clients();
    const SimulatedClient& who = plan_.client != nullptr ? *plan_.client : clients[ctx.random.below(clients.size())];
    ctx.requests.make(who, plan_.client == nullptr, plan_.server_port, request_);
    const RequestTruth& t = request_.truth;
    PendingHead head;
    head.end_offset = client_sent_ + batch_.size() + request_.head_length;
    head.columns = fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", t.client_ip, plan_.peer.text,
                               plan_.peer_port, plan_.server.text, plan_.server_port, t.method, t.host, t.target,
                               t.account, t.principal, t.admin ? "admin" : "access");
    pending_heads_.push_back(std::move(head));
    if (k == 0) first_head_length = request_.head_length;
    batch_ += request_.wire;
    batch_methods_.push_back(t.method);
  }
  plan_.requests -= count;
  plan_segments(ctx, first_head_length);
  for (const auto& [begin, end] : segments_) send_client_data(ctx, begin, end);
  client_sent_ += batch_.size();
}

void SimulatedConnection::plan_segments(GenerationContext& ctx, std::size_t first_head_length) {
  SeededRandom& random = ctx.random;
  const std::size_t length = batch_.size();
  std::vector<std::size_t> cuts = {0, length};
  if (first_head_length > 8 && random.percent(35)) {  // head split, often mid-line
    cuts.push_back(random.between(1, static_cast<std::uint32_t>(first_head_length - 1)));
    if (random.percent(40)) cuts.push_back(random.between(1, static_cast<std::uint32_t>(first_head_length - 1)));
  }
  for (std::size_t at = kMss; at < length; at += kMss) cuts.push_back(at);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  segments_.clear();
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) segments_.emplace_back(cuts[i], cuts[i + 1]);

  const std::size_t n = segments_.size();
  const std::uint32_t r = random.below(100);
  if (r < 8 && n >= 2) {  // reordered
    const std::size_t i = random.below(static_cast<std::uint32_t>(n - 1));
    std::swap(segments_[i], segments_[i + 1]);
  } else if (r < 13) {  // exact retransmission, right away or one segment later
    const std::size_t i = random.below(static_cast<std::uint32_t>(n));
    const std::size_t at = std::min(i + 1 + random.below(2), n);
    segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(at), segments_[i]);
  } else if (r < 18) {  // retransmission partly overlapping what was sent
    const std::size_t i = random.below(static_cast<std::uint32_t>(n));
    const auto [begin, end] = segments_[i];
    const std::size_t middle = begin + (end - begin) / 2;
    if (i + 1 < n) {
      const auto [next_begin, next_end] = segments_[i + 1];
      if (random.percent(50)) {
        segments_[i + 1].first = middle;  // old and new bytes in one segment
      } else {                            // old bytes straddling two earlier segments
        segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(i + 2),
                         {middle, next_begin + (next_end - next_begin) / 2});
      }
    } else if (middle > begin) {  // a short send, then a resend of all of it
      segments_[i].second = middle;
      segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(i + 1), {begin, end});
    }
  }
}

void SimulatedConnection::send_client_data(GenerationContext& ctx, std::size_t begin, std::size_t end) {
  TcpSegment s;
  s.flags = static_cast<std::uint8_t>(tcp_flag::kAck | (end == batch_.size() ? tcp_flag::kPsh : 0));
  s.seq = client_seq() + static_cast<std::uint32_t>(begin);
  s.ack = server_seq();
  s.payload = reinterpret_cast<const std::uint8_t*>(batch_.data()) + begin;
  s.length = end - begin;
  s.ts_value = ts_value(ctx);
  const std::int64_t ts = ctx.tick();
  to_server_.write(ctx.pcap, ts, s);
  const std::uint64_t in_order = delivered_.add(client_sent_ + begin, client_sent_ + end);
  std::size_t done = 0;
  while (done < pending_heads_.size() && pending_heads_[done].end_offset <= in_order) {
    ctx.truth.write(ts, pending_heads_[done].columns);
    ++done;
  }
  pending_heads_.erase(pending_heads_.begin(), pending_heads_.begin() + static_cast<std::ptrdiff_t>(done));
}

void SimulatedConnection::send_responses(GenerationContext& ctx) {
  SeededRandom& random = ctx.random;
  response_.clear();
  for (std::string_view method : batch_methods_) {
    if (method == "OPTIONS" || method == "DELETE") {
      response_ += "HTTP/1.1 204 No Content\r\nAllow: GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE\r\n\r\n";
      continue;
    }
    const std::uint32_t r = random.below(100);
    const std::size_t body = r < 60 ? random.between(60, 400) : r < 90 ? random.between(400, 2000)
                                                                        : random.between(2000, 6000);
    const char* status = random.percent(5) ? "404 Not Found" : method == "POST" ? "201 Created" : "200 OK";
    fmt::format_to(std::back_inserter(response_),
                   "HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Request-Id: {:016x}\r\n\r\n",
                   status, body, random.next());
    if (method == "HEAD") continue;
    response_ += "{\"items\":[";
    std::size_t filled = 10;
    while (filled + 1 < body) {
      const std::size_t n = std::min<std::size_t>(body - filled - 1, 64);
      response_.append("{\"id\":\"r-0000\",\"state\":\"running\",\"zone\":\"eu-1a\"},{\"id\":\"r-1\"}", 0, n);
      filled += n;
    }
    response_ += ']';
  }
  for (std::size_t begin = 0; begin < response_.size(); begin += kMss) {
    const std::size_t end = std::min(begin + kMss, response_.size());
    TcpSegment s;
    s.flags = static_cast<std::uint8_t>(tcp_flag::kAck | (end == response_.size() ? tcp_flag::kPsh : 0));
    s.seq = server_seq() + static_cast<std::uint32_t>(begin);
    s.ack = client_seq();
    s.payload = reinterpret_cast<const std::uint8_t*>(response_.data()) + begin;
    s.length = end - begin;
    s.ts_value = ts_value(ctx);
    to_client_.write(ctx.pcap, ctx.tick(), s);
  }
  server_sent_ += response_.size();
  send_client_control(ctx, tcp_flag::kAck);
}

void SimulatedConnection::send_client_control(GenerationContext& ctx, std::uint8_t flags) {
  TcpSegment s{flags, client_seq() + client_fin_, server_seq() + server_fin_, nullptr, 0, ts_value(ctx)};
  to_server_.write(ctx.pcap, ctx.tick(), s);
  if ((flags & tcp_flag::kFin) != 0) client_fin_ = 1;
}

void SimulatedConnection::send_server_control(GenerationContext& ctx, std::uint8_t flags) {
  TcpSegment s{flags, server_seq() + server_fin_, client_seq() + client_fin_, nullptr, 0, ts_value(ctx)};
  to_client_.write(ctx.pcap, ctx.tick(), s);
  if ((flags & tcp_flag::kFin) != 0) server_fin_ = 1;
}

// Mostly the client closes; some servers close first (idle keep-alive
// timeout); a few clients reset.
void SimulatedConnection::close_step(GenerationContext& ctx) {
  constexpr std::uint8_t kFinAck = tcp_flag::kFin | tcp_flag::kAck;
  if (phase_ == Phase::kClose1) close_style_ = ctx.random.below(100);
  const bool client_first = close_style_ < 80;
  const bool reset = close_style_ >= 94;
  switch (phase_) {
    case Phase::kClose1:
      if (reset) {
        send_client_control(ctx, tcp_flag::kRst | tcp_flag::kAck);
        phase_ = Phase::kDone;
        return;
      }
      client_first ? send_client_control(ctx, kFinAck) : send_server_control(ctx, kFinAck);
      phase_ = Phase::kClose2;
      return;
    case Phase::kClose2:
      client_first ? send_server_control(ctx, kFinAck) : send_client_control(ctx, kFinAck);
      phase_ = Phase::kClose3;
      return;
    default:
      client_first ? send_client_control(ctx, tcp_flag::kAck) : send_server_control(ctx, tcp_flag::kAck);
      phase_ = Phase::kDone;
      return;
  }
}

}  // namespace ipattrib::bench
