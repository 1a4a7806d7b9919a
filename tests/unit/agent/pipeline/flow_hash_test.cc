#include "agent/pipeline/flow_hash.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/decode/packet_decoder.h"

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

// An Ethernet frame around a raw IP frame, with `vlan_tags` 802.1Q tags.
std::vector<std::uint8_t> ethernet(const std::vector<std::uint8_t>& ip, int vlan_tags) {
  std::vector<std::uint8_t> f(12, 0x02);  // destination and source MAC
  for (int t = 0; t < vlan_tags; ++t) {
    testing::put16(f, t == 0 && vlan_tags > 1 ? 0x88a8 : 0x8100);
    testing::put16(f, 100 + t);
  }
  testing::put16(f, (ip[0] >> 4) == 4 ? 0x0800 : 0x86dd);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

// The hash from fixed offsets (Ethernet) must give the full decoder's verdict
// and, when it hashes, the decoder's endpoints' hash: for IPv4 and IPv6, with
// 0 to 3 VLAN tags (3: past the fixed offsets), whole, cut at every length,
// padded, and with the headers the fast path leaves to the decoder.
TEST(FlowHashTest, EthernetFastPathAgreesWithTheDecoderOnEveryCutAndVariant) {
  const std::string payload = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  std::vector<std::vector<std::uint8_t>> frames;
  for (const auto& [src, dst] : {std::pair{"192.0.2.10", "10.1.2.3"}, std::pair{"2001:db8::10", "2001:db8:1::443"}}) {
    const auto ip = testing::raw_tcp_frame(IpAddress::parse(src).value(), 51234, IpAddress::parse(dst).value(), 80, 7,
                                           0x18, payload);
    for (int tags = 0; tags <= 3; ++tags) {
      const std::vector<std::uint8_t> whole = ethernet(ip, tags);
      for (std::size_t cut = 0; cut <= whole.size(); ++cut) frames.emplace_back(whole.begin(), whole.begin() + cut);
      std::vector<std::uint8_t> padded = whole;
      padded.resize(whole.size() + 18, 0);  // Ethernet padding after the IP packet
      frames.push_back(padded);
      const std::size_t l3 = 14 + 4 * static_cast<std::size_t>(tags);
      for (std::size_t at : {l3, l3 + 2, l3 + 3, l3 + 4, l3 + 5, l3 + 6, l3 + 7, l3 + 9, l3 + 32, l3 + 44}) {
        for (std::uint8_t value : {0x00, 0x11, 0x46, 0x5f, 0xff}) {
          std::vector<std::uint8_t> bent = whole;
          if (at < bent.size()) bent[at] = value;
          frames.push_back(bent);
        }
      }
    }
  }
  int hashed = 0;
  for (const std::vector<std::uint8_t>& bytes : frames) {
    RawFrame frame;
    frame.data = bytes;
    frame.wire_length = static_cast<std::uint32_t>(bytes.size());
    PacketView view;
    const bool decodes = decode_tcp_segment(LinkType::kEthernet, frame, view) == DecodeResult::kTcpSegment;
    std::uint32_t hash = 0;
    ASSERT_EQ(frame_flow_hash(LinkType::kEthernet, frame, hash), decodes) << bytes.size() << " bytes";
    if (decodes) {
      EXPECT_EQ(hash, symmetric_flow_hash(view)) << bytes.size() << " bytes";
      ++hashed;
    }
  }
  EXPECT_GT(hashed, 8);
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
