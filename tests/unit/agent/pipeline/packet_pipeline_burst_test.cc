// PacketPipeline::process_burst against process() frame by frame: the same
// events in the same order and the same counters, whatever the burst size,
// with undecodable frames, both directions of a flow, flows opened and closed
// inside one burst, idle expiry and eviction (a full table) in mid-burst.
#include "agent/pipeline/packet_pipeline.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "agent/output/event_json_writer.h"
#include "ipattrib/stats_line.h"
#include "tests/unit/agent/pipeline/raw_tcp_frame.h"

namespace ipattrib::agent {
namespace {

using testing::raw_tcp_frame;

class CollectingSink final : public AccessEventSink {
 public:
  void on_access(const AccessEvent& event) override { lines.push_back(EventJsonWriter::to_json(event)); }
  std::vector<std::string> lines;
};

AgentConfig test_config(std::size_t max_flows, int burst) {
  AgentConfig config = default_agent_config();
  config.http.any_port = false;
  config.http.ports = {80};
  config.flow.max_flows = max_flows;
  config.flow.idle_timeout_s = 5;
  config.pipeline.burst = burst;
  add_header_account_rule(config.attribution, "X-Account-Id");
  return config;
}

struct Frame {
  std::vector<std::uint8_t> bytes;
  std::int64_t ts_us = 0;
};

// Many flows interleaved at random, each: SYN, SYN-ACK, ACK, two requests
// (the second split in two segments), the server's answer, FIN from each
// side; some flows end in RST instead. Undecodable frames (garbage, a cut
// TCP header, UDP) are scattered in between, and time jumps past the idle
// timeout twice so expiry runs in mid-burst.
std::vector<Frame> make_capture(std::uint32_t seed) {
  std::mt19937 rng(seed);
  constexpr int kFlows = 60;
  std::vector<std::vector<std::vector<std::uint8_t>>> per_flow(kFlows);
  const IpAddress server = IpAddress::from_v4(0xC000020A);
  for (int f = 0; f < kFlows; ++f) {
    const IpAddress client = (f % 3 == 0) ? IpAddress::from_v4(0x0A000000u + static_cast<std::uint32_t>(f))
                                          : IpAddress::from_v4(0x0A010000u + static_cast<std::uint32_t>(f));
    const std::uint16_t port = static_cast<std::uint16_t>(40000 + f);
    const std::string account = "acct-" + std::to_string(f);
    const std::string first = "GET /a/" + std::to_string(f) + " HTTP/1.1\r\nHost: x\r\nX-Account-Id: " + account + "\r\n\r\n";
    const std::string second = "GET /b HTTP/1.1\r\nHost: y\r\nX-Account-Id: " + account + "\r\n\r\n";
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    auto& frames = per_flow[static_cast<std::size_t>(f)];
    std::uint32_t c = 1000;
    std::uint32_t s = 5000;
    frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpSyn));
    frames.push_back(raw_tcp_frame(server, 80, client, port, s, kTcpSyn | kTcpAck));
    ++c;
    ++s;
    frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpAck));
    frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpAck | kTcpPsh, first));
    c += static_cast<std::uint32_t>(first.size());
    frames.push_back(raw_tcp_frame(server, 80, client, port, s, kTcpAck | kTcpPsh, answer));
    s += static_cast<std::uint32_t>(answer.size());
    const std::size_t cut = 10 + static_cast<std::size_t>(f % 20);
    frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpAck, second.substr(0, cut)));
    frames.push_back(raw_tcp_frame(client, port, server, 80, c + static_cast<std::uint32_t>(cut), kTcpAck,
                                   second.substr(cut)));
    c += static_cast<std::uint32_t>(second.size());
    if (f % 7 == 0) {
      frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpRst));
    } else {
      frames.push_back(raw_tcp_frame(client, port, server, 80, c, kTcpFin | kTcpAck));
      frames.push_back(raw_tcp_frame(server, 80, client, port, s, kTcpFin | kTcpAck));
    }
  }
  std::vector<Frame> out;
  std::vector<std::size_t> next(kFlows, 0);
  std::int64_t ts = 1700000000000000;
  for (;;) {
    std::vector<int> open;
    for (int f = 0; f < kFlows; ++f) {
      if (next[static_cast<std::size_t>(f)] < per_flow[static_cast<std::size_t>(f)].size()) open.push_back(f);
    }
    if (open.empty()) break;
    const int f = open[rng() % open.size()];
    out.push_back({per_flow[static_cast<std::size_t>(f)][next[static_cast<std::size_t>(f)]++], ts += 1000});
    switch (rng() % 16) {
      case 0:
        out.push_back({{0x45, 0x00, 0x01}, ts});  // cut IPv4 header
        break;
      case 1: {
        std::vector<std::uint8_t> udp = raw_tcp_frame(IpAddress::from_v4(1), 53, IpAddress::from_v4(2), 53);
        udp[9] = 17;  // protocol: UDP
        out.push_back({udp, ts});
        break;
      }
      case 2:
        out.push_back({{0xde, 0xad, 0xbe, 0xef}, ts});
        break;
      default:
        break;
    }
    if (out.size() == 300 || out.size() == 600) ts += 6000000;  // past the idle timeout
  }
  return out;
}

std::vector<RawFrame> raw_frames(const std::vector<Frame>& capture) {
  std::vector<RawFrame> raw;
  for (const Frame& frame : capture) {
    RawFrame r;
    r.ts_us = frame.ts_us;
    r.data = frame.bytes;
    r.wire_length = static_cast<std::uint32_t>(frame.bytes.size());
    raw.push_back(r);
  }
  return raw;
}

struct Outcome {
  std::vector<std::string> events;
  std::string counters;
};

Outcome run(const AgentConfig& config, const std::vector<RawFrame>& frames, std::size_t call_size) {
  GeoResolver geo{GeoConfig{}};
  CollectingSink sink;
  PacketPipeline pipeline(config, geo, sink);
  if (call_size == 0) {
    for (const RawFrame& frame : frames) pipeline.process(LinkType::kRawIp, frame);
  } else {
    std::span<const RawFrame> rest(frames);
    while (!rest.empty()) {
      const std::size_t n = std::min(call_size, rest.size());
      pipeline.process_burst(LinkType::kRawIp, rest.first(n));
      rest = rest.subspan(n);
    }
  }
  pipeline.finish();
  StatsLine stats;
  pipeline.report(stats);
  return {sink.lines, stats.to_string()};
}

TEST(PacketPipelineBurst, SameEventsAndCountersAsFrameByFrame) {
  const std::vector<Frame> capture = make_capture(1);
  const std::vector<RawFrame> frames = raw_frames(capture);
  for (const std::size_t max_flows : {std::size_t{1000}, std::size_t{8}}) {  // 8: evictions in mid-burst
    const Outcome one_by_one = run(test_config(max_flows, 64), frames, 0);
    ASSERT_GT(one_by_one.events.size(), 20u);
    EXPECT_NE(one_by_one.counters.find("decode.frames=" + std::to_string(frames.size())), std::string::npos);
    for (const int burst : {1, 3, 64, 1024}) {
      for (const std::size_t call_size : {std::size_t{1}, std::size_t{5}, std::size_t{64}, frames.size()}) {
        SCOPED_TRACE("max_flows " + std::to_string(max_flows) + " burst " + std::to_string(burst) + " call " +
                     std::to_string(call_size));
        const Outcome bursts = run(test_config(max_flows, burst), frames, call_size);
        EXPECT_EQ(bursts.events, one_by_one.events);
        EXPECT_EQ(bursts.counters, one_by_one.counters);
      }
    }
  }
}

TEST(PacketPipelineBurst, BothDirectionsOfOneFlowInOneBurst) {
  const IpAddress client = IpAddress::from_v4(0x0A000001);
  const IpAddress server = IpAddress::from_v4(0xC000020A);
  const std::string request = "GET /x HTTP/1.1\r\nHost: h\r\nX-Account-Id: a1\r\n\r\n";
  std::vector<Frame> capture = {
      {raw_tcp_frame(client, 40000, server, 80, 100, kTcpSyn), 1},
      {raw_tcp_frame(server, 80, client, 40000, 900, kTcpSyn | kTcpAck), 2},
      {{0x00}, 3},  // undecodable, between the two directions
      {raw_tcp_frame(client, 40000, server, 80, 101, kTcpAck | kTcpPsh, request), 4},
      {raw_tcp_frame(server, 80, client, 40000, 901, kTcpAck), 5},
      {raw_tcp_frame(client, 40000, server, 80, 101 + static_cast<std::uint32_t>(request.size()), kTcpAck | kTcpPsh,
                     request),
       6},
      {raw_tcp_frame(server, 80, client, 40000, 901, kTcpFin | kTcpAck), 7},
  };
  const std::vector<RawFrame> frames = raw_frames(capture);
  const Outcome one_by_one = run(test_config(16, 64), frames, 0);
  const Outcome burst = run(test_config(16, 64), frames, frames.size());
  ASSERT_EQ(one_by_one.events.size(), 2u);
  EXPECT_EQ(burst.events, one_by_one.events);
  EXPECT_EQ(burst.counters, one_by_one.counters);
  EXPECT_NE(burst.counters.find("flow.closed_fin=1"), std::string::npos);
}

}  // namespace
}  // namespace ipattrib::agent
