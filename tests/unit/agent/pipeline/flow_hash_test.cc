#include "agent/pipeline/flow_hash.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "tests/unit/agent/pipeline/raw_tcp_frame.h"

namespace ipattrib::agent {
namespace {

PacketView segment(const char* src, std::uint16_t src_port, const char* dst, std::uint16_t dst_port) {
  PacketView view;
  view.src = IpAddress::parse(src).value();
  view.dst = IpAddress::parse(dst).value();
  view.src_port = src_port;
  view.dst_port = dst_port;
  return view;
}

std::uint32_t frame_hash(const PacketView& v) {
  const std::vector<std::uint8_t> bytes = testing::raw_tcp_frame(v.src, v.src_port, v.dst, v.dst_port);
  RawFrame frame;
  frame.data = bytes;
  frame.wire_length = static_cast<std::uint32_t>(bytes.size());
  std::uint32_t hash = 0;
  EXPECT_TRUE(frame_flow_hash(LinkType::kRawIp, frame, hash));
  return hash;
}

TEST(FlowHashTest, BothDirectionsOfAnIpv4FlowHashTheSame) {
  const PacketView request = segment("192.0.2.10", 51234, "10.1.2.3", 80);
  const PacketView response = segment("10.1.2.3", 80, "192.0.2.10", 51234);
  EXPECT_EQ(symmetric_flow_hash(request), symmetric_flow_hash(response));
  EXPECT_EQ(frame_hash(request), frame_hash(response));
  EXPECT_EQ(frame_hash(request), symmetric_flow_hash(request));
}

TEST(FlowHashTest, BothDirectionsOfAnIpv6FlowHashTheSame) {
  const PacketView request = segment("2001:db8::10", 40000, "2001:db8:1::443", 8080);
  const PacketView response = segment("2001:db8:1::443", 8080, "2001:db8::10", 40000);
  EXPECT_EQ(symmetric_flow_hash(request), symmetric_flow_hash(response));
  EXPECT_EQ(frame_hash(request), frame_hash(response));
}

TEST(FlowHashTest, SameAddressesDifferentPortsAreDifferentFlows) {
  // Behind a load balancer every connection comes from one address: the
  // ports must spread them, and swapping only the ports is another flow.
  EXPECT_NE(symmetric_flow_hash(segment("10.0.0.1", 1000, "10.0.0.2", 80)),
            symmetric_flow_hash(segment("10.0.0.1", 1001, "10.0.0.2", 80)));
  EXPECT_NE(symmetric_flow_hash(segment("10.0.0.1", 1000, "10.0.0.2", 80)),
            symmetric_flow_hash(segment("10.0.0.1", 80, "10.0.0.2", 1000)));
}

TEST(FlowHashTest, ConnectionsFromOneProxySpreadOverWorkers) {
  for (std::size_t workers : {2u, 3u, 8u}) {
    std::vector<std::size_t> per_worker(workers);
    const int flows = 8000;
    for (int port = 20000; port < 20000 + flows; ++port) {
      const auto w = worker_for_hash(
          symmetric_flow_hash(segment("10.9.9.9", static_cast<std::uint16_t>(port), "10.0.0.2", 80)), workers);
      ASSERT_LT(w, workers);
      ++per_worker[w];
    }
    for (std::size_t count : per_worker) {
      EXPECT_GT(count, flows / workers * 8 / 10) << workers << " workers";
      EXPECT_LT(count, flows / workers * 12 / 10) << workers << " workers";
    }
  }
}

TEST(FlowHashTest, FramesThatAreNotTcpHaveNoHash) {
  std::vector<std::uint8_t> bytes = testing::raw_tcp_frame(segment("10.0.0.1", 1, "10.0.0.2", 2).src, 1,
                                                  segment("10.0.0.1", 1, "10.0.0.2", 2).dst, 2);
  bytes[9] = 17;  // UDP
  RawFrame frame;
  frame.data = bytes;
  std::uint32_t hash = 0;
  EXPECT_FALSE(frame_flow_hash(LinkType::kRawIp, frame, hash));
  const std::array<std::uint8_t, 3> runt{0x45, 0, 0};
  frame.data = runt;
  EXPECT_FALSE(frame_flow_hash(LinkType::kRawIp, frame, hash));
}

TEST(FlowHashTest, WorkerForHashCoversTheRange) {
  EXPECT_EQ(worker_for_hash(0, 4), 0u);
  EXPECT_EQ(worker_for_hash(0xFFFFFFFFu, 4), 3u);
  EXPECT_EQ(worker_for_hash(0x80000000u, 2), 1u);
  EXPECT_EQ(worker_for_hash(0x7FFFFFFFu, 2), 0u);
  EXPECT_EQ(worker_for_hash(0xFFFFFFFFu, 1), 0u);
}

}  // namespace
}  // namespace ipattrib::agent
