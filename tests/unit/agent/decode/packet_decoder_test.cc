#include "agent/decode/packet_decoder.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "frame_builder.h"

namespace ipattrib::agent {
namespace {

using test::Frame;

std::string_view text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Frame ethernet_ipv4_tcp(std::string_view payload) {
  Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, test::tcp_segment(40000, 80, payload));
  return f;
}

Frame ipv6_packet(std::uint8_t next_header, const Frame& rest) {
  Frame f;
  test::ipv6(f, next_header, rest);
  return f;
}

DecodeResult decode(LinkType link, const Frame& f, PacketView& out) {
  return decode_tcp_segment(link, test::raw(f), out);
}

DecodeResult decode(LinkType link, const Frame& f) {
  PacketView out;
  return decode_tcp_segment(link, test::raw(f), out);
}

TEST(PacketDecoderTest, EthernetIpv4TcpFillsEveryField) {
  const Frame f = ethernet_ipv4_tcp("GET / HTTP/1.1\r\n");
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(v.ts_us, 1700000000123456);
  EXPECT_EQ(v.src.to_string(), "10.0.0.1");
  EXPECT_EQ(v.dst.to_string(), "10.0.0.2");
  EXPECT_TRUE(v.src.is_v4());
  EXPECT_EQ(v.src_port, 40000);
  EXPECT_EQ(v.dst_port, 80);
  EXPECT_EQ(v.seq, 1000u);
  EXPECT_EQ(v.ack, 2000u);
  EXPECT_EQ(v.tcp_flags, kTcpPsh | kTcpAck);
  EXPECT_EQ(text(v.payload), "GET / HTTP/1.1\r\n");
  // Zero-copy: the payload points into the frame.
  EXPECT_EQ(v.payload.data(), f.data() + 14 + 20 + 20);
}

TEST(PacketDecoderTest, EthernetPaddingIsNotPayload) {
  Frame f = ethernet_ipv4_tcp("GET");
  ASSERT_LT(f.size(), 60u);
  f.resize(60, 0xee);  // minimum Ethernet frame; the NIC pads with junk
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "GET");
}

TEST(PacketDecoderTest, SynWithoutPayloadAndTcpOptions) {
  Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, test::tcp_segment(1, 2, "", kTcpSyn, {2, 4, 0x05, 0xb4, 1, 1, 4, 2}));
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(v.tcp_flags, kTcpSyn);
  EXPECT_TRUE(v.payload.empty());
}

TEST(PacketDecoderTest, Ipv4OptionsAreSkipped) {
  Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, test::tcp_segment(1, 80, "hello"), 6, 0x4000, {0x94, 0x04, 0, 0, 1, 1, 1, 0});  // router alert, NOPs
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(v.dst_port, 80);
  EXPECT_EQ(text(v.payload), "hello");
}

TEST(PacketDecoderTest, VlanTagsOfEveryKindAreSteppedOver) {
  for (std::uint16_t outer : {0x8100, 0x88a8, 0x9100}) {
    Frame f;
    test::ethernet(f, outer);
    test::vlan_tag(f, 100, 0x8100);
    test::vlan_tag(f, 200, 0x0800);
    test::ipv4(f, test::tcp_segment(1, 80, "x"));
    PacketView v;
    ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment) << std::hex << outer;
    EXPECT_EQ(text(v.payload), "x");
  }
}

TEST(PacketDecoderTest, VlanStackDepthIsBounded) {
  auto stacked = [](int tags) {
    Frame f;
    test::ethernet(f, 0x8100);
    for (int i = 1; i < tags; ++i) test::vlan_tag(f, static_cast<std::uint16_t>(i), 0x8100);
    test::vlan_tag(f, 999, 0x0800);
    test::ipv4(f, test::tcp_segment(1, 80, "x"));
    return f;
  };
  EXPECT_EQ(decode(LinkType::kEthernet, stacked(kMaxVlanTags)), DecodeResult::kTcpSegment);
  EXPECT_EQ(decode(LinkType::kEthernet, stacked(kMaxVlanTags + 1)), DecodeResult::kVlanTooDeep);
}

TEST(PacketDecoderTest, NonIpEthertypesAreUnsupported) {
  Frame arp;
  test::ethernet(arp, 0x0806);
  arp.resize(60);
  EXPECT_EQ(decode(LinkType::kEthernet, arp), DecodeResult::kUnsupportedEthertype);
  Frame llc;
  test::ethernet(llc, 0x0040);  // 802.3 length field
  llc.resize(60);
  EXPECT_EQ(decode(LinkType::kEthernet, llc), DecodeResult::kUnsupportedEthertype);
}

TEST(PacketDecoderTest, LinuxCookedV1AndV2) {
  Frame tcp;
  test::ipv4(tcp, test::tcp_segment(1, 80, "sll"));

  Frame sll;
  test::put_bytes(sll, {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0});  // packet type, ARPHRD, addr len, addr
  test::put16(sll, 0x0800);
  sll.insert(sll.end(), tcp.begin(), tcp.end());
  PacketView v;
  ASSERT_EQ(decode(LinkType::kLinuxSll, sll, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "sll");

  Frame sll2;
  test::put16(sll2, 0x0800);
  test::put_bytes(sll2, {0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0});
  sll2.insert(sll2.end(), tcp.begin(), tcp.end());
  ASSERT_EQ(decode(LinkType::kLinuxSll2, sll2, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "sll");

  EXPECT_EQ(decode(LinkType::kLinuxSll, Frame(15, 0)), DecodeResult::kTruncatedLink);
  EXPECT_EQ(decode(LinkType::kLinuxSll2, Frame(19, 0)), DecodeResult::kTruncatedLink);
}

TEST(PacketDecoderTest, BsdLoopbackInEitherByteOrder) {
  Frame v4;
  test::ipv4(v4, test::tcp_segment(1, 80, "lo"));
  Frame v6 = ipv6_packet(6, test::tcp_segment(1, 80, "lo6"));
  auto with_header = [](std::initializer_list<std::uint8_t> header, const Frame& packet) {
    Frame f(header);
    f.insert(f.end(), packet.begin(), packet.end());
    return f;
  };
  PacketView v;
  const Frame little_endian = with_header({2, 0, 0, 0}, v4);
  ASSERT_EQ(decode(LinkType::kNull, little_endian, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "lo");
  ASSERT_EQ(decode(LinkType::kNull, with_header({0, 0, 0, 2}, v4), v), DecodeResult::kTcpSegment);
  for (std::uint8_t af6 : {24, 28, 30}) {
    const Frame f = with_header({af6, 0, 0, 0}, v6);
    ASSERT_EQ(decode(LinkType::kNull, f, v), DecodeResult::kTcpSegment);
    EXPECT_EQ(text(v.payload), "lo6");
  }
  ASSERT_EQ(decode(LinkType::kLoop, with_header({0, 0, 0, 30}, v6), v), DecodeResult::kTcpSegment);
  ASSERT_EQ(decode(LinkType::kLoop, with_header({0, 0, 0, 2}, v4), v), DecodeResult::kTcpSegment);
  EXPECT_EQ(decode(LinkType::kNull, with_header({7, 0, 0, 0}, v4)), DecodeResult::kUnsupportedAddressFamily);
  EXPECT_EQ(decode(LinkType::kNull, Frame{2, 0, 0}), DecodeResult::kTruncatedLink);
}

TEST(PacketDecoderTest, RawIpByVersionNibbleAndFixedFamilies) {
  Frame v4;
  test::ipv4(v4, test::tcp_segment(1, 80, "raw4"));
  const Frame v6 = ipv6_packet(6, test::tcp_segment(1, 80, "raw6"));
  PacketView v;
  ASSERT_EQ(decode(LinkType::kRawIp, v4, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "raw4");
  ASSERT_EQ(decode(LinkType::kRawIp, v6, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "raw6");
  EXPECT_TRUE(v.src.is_v6());
  EXPECT_EQ(v.src.to_string(), "2001:db8::1");
  EXPECT_EQ(v.dst.to_string(), "2001:db8::2");
  ASSERT_EQ(decode(LinkType::kIpv4, v4, v), DecodeResult::kTcpSegment);
  ASSERT_EQ(decode(LinkType::kIpv6, v6, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(decode(LinkType::kIpv4, v6), DecodeResult::kBadIpv4Header);
  EXPECT_EQ(decode(LinkType::kIpv6, v4), DecodeResult::kBadIpv6Header);
  Frame v5 = v4;
  v5[0] = 0x55;
  EXPECT_EQ(decode(LinkType::kRawIp, v5), DecodeResult::kUnsupportedIpVersion);
  EXPECT_EQ(decode(LinkType::kRawIp, Frame{}), DecodeResult::kTruncatedLink);
}

TEST(PacketDecoderTest, UnknownLinkTypeIsCounted) {
  EXPECT_EQ(decode(static_cast<LinkType>(200), ethernet_ipv4_tcp("x")), DecodeResult::kUnsupportedLink);
}

TEST(PacketDecoderTest, Ipv4FragmentsAreSkipped) {
  Frame first;
  test::ethernet(first, 0x0800);
  test::ipv4(first, test::tcp_segment(1, 80, "x"), 6, 0x2000);  // MF, offset 0
  EXPECT_EQ(decode(LinkType::kEthernet, first), DecodeResult::kIpv4Fragment);
  Frame later;
  test::ethernet(later, 0x0800);
  test::ipv4(later, Frame(16, 'y'), 6, 0x0003);  // offset 24, last
  EXPECT_EQ(decode(LinkType::kEthernet, later), DecodeResult::kIpv4Fragment);
}

TEST(PacketDecoderTest, UdpAndIcmpAreNotTcp) {
  Frame udp;
  test::ethernet(udp, 0x0800);
  test::ipv4(udp, Frame(12, 0), 17);
  EXPECT_EQ(decode(LinkType::kEthernet, udp), DecodeResult::kNotTcp);
  EXPECT_EQ(decode(LinkType::kRawIp, ipv6_packet(17, Frame(12, 0))), DecodeResult::kNotTcp);
  EXPECT_EQ(decode(LinkType::kRawIp, ipv6_packet(58, Frame(8, 0))), DecodeResult::kNotTcp);
  EXPECT_EQ(decode(LinkType::kRawIp, ipv6_packet(59, Frame{})), DecodeResult::kNotTcp);
}

TEST(PacketDecoderTest, BadIpv4Headers) {
  Frame f = ethernet_ipv4_tcp("x");
  Frame bad_ihl = f;
  bad_ihl[14] = 0x44;
  EXPECT_EQ(decode(LinkType::kEthernet, bad_ihl), DecodeResult::kBadIpv4Header);
  Frame long_ihl = f;
  long_ihl[14] = 0x4f;  // 60-byte header: the TCP header would be "options"
  EXPECT_EQ(decode(LinkType::kEthernet, long_ihl), DecodeResult::kBadIpv4Header);  // total length 41 < 60
  Frame short_total = f;
  short_total[16] = 0;
  short_total[17] = 19;
  EXPECT_EQ(decode(LinkType::kEthernet, short_total), DecodeResult::kBadIpv4Header);
  Frame v6_in_v4 = f;
  v6_in_v4[14] = 0x65;
  EXPECT_EQ(decode(LinkType::kEthernet, v6_in_v4), DecodeResult::kBadIpv4Header);
}

TEST(PacketDecoderTest, BadTcpDataOffset) {
  Frame f = ethernet_ipv4_tcp("abc");
  Frame small = f;
  small[14 + 20 + 12] = 0x40;  // 16-byte header
  EXPECT_EQ(decode(LinkType::kEthernet, small), DecodeResult::kBadTcpHeader);
  Frame large = f;
  large[14 + 20 + 12] = 0xf0;  // 60 bytes, segment has 23
  EXPECT_EQ(decode(LinkType::kEthernet, large), DecodeResult::kBadTcpHeader);
  Frame tiny_total = f;
  tiny_total[17] = 20 + 10;  // IP says the TCP header is 10 bytes
  EXPECT_EQ(decode(LinkType::kEthernet, tiny_total), DecodeResult::kTruncatedTcp);
}

TEST(PacketDecoderTest, IpLengthBeyondCaptureIsSnaplenOrTruncation) {
  const Frame f = ethernet_ipv4_tcp("0123456789");
  const Frame cut(f.begin(), f.end() - 4);
  RawFrame r = test::raw(cut);
  PacketView v;
  EXPECT_EQ(decode_tcp_segment(LinkType::kEthernet, r, v), DecodeResult::kTruncatedIpv4);
  r.wire_length = static_cast<std::uint32_t>(f.size());
  EXPECT_EQ(decode_tcp_segment(LinkType::kEthernet, r, v), DecodeResult::kSnaplenTruncated);

  const Frame v6 = ipv6_packet(6, test::tcp_segment(1, 80, "0123456789"));
  const Frame cut6(v6.begin(), v6.end() - 4);
  r = test::raw(cut6);
  EXPECT_EQ(decode_tcp_segment(LinkType::kRawIp, r, v), DecodeResult::kTruncatedIpv6);
  r.wire_length = static_cast<std::uint32_t>(v6.size());
  EXPECT_EQ(decode_tcp_segment(LinkType::kRawIp, r, v), DecodeResult::kSnaplenTruncated);
}

TEST(PacketDecoderTest, ZeroIpLengthFromSegmentationOffloadUsesCapturedBytes) {
  Frame f = ethernet_ipv4_tcp("big segment");
  f[16] = 0;
  f[17] = 0;
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "big segment");
}

// Ethernet + IPv4 + TCP takes a fast path; the same IP bytes read as
// LINKTYPE_IPV4 take the general steps. Both must agree on every frame:
// each IP total length, TCP data offset, first byte, fragment bits and cut.
TEST(PacketDecoderTest, EthernetIpv4FastPathAgreesWithTheGeneralSteps) {
  const Frame base = ethernet_ipv4_tcp("GET / HTTP/1.1\r\n\r\n");
  int compared = 0;
  int segments = 0;
  for (std::size_t total = 0; total <= base.size() - 14 + 4; ++total) {
    for (const int offset : {0, 3, 4, 5, 6, 9, 15}) {
      for (const std::uint8_t first : {std::uint8_t{0x45}, std::uint8_t{0x46}}) {
        for (const std::uint8_t fragment : {std::uint8_t{0x00}, std::uint8_t{0x20}}) {
          for (const std::size_t cut : {std::size_t{0}, std::size_t{3}}) {
            Frame f = base;
            f[14] = first;
            f[16] = static_cast<std::uint8_t>(total >> 8);
            f[17] = static_cast<std::uint8_t>(total);
            f[20] = fragment;
            f[14 + 20 + 12] = static_cast<std::uint8_t>(offset << 4);
            f.resize(f.size() - cut);
            const Frame ip(f.begin() + 14, f.end());
            RawFrame ethernet = test::raw(f);
            RawFrame raw_ip = test::raw(ip);
            ethernet.wire_length = static_cast<std::uint32_t>(base.size());
            raw_ip.wire_length = static_cast<std::uint32_t>(base.size() - 14);
            PacketView fast;
            PacketView general;
            const DecodeResult a = decode_tcp_segment(LinkType::kEthernet, ethernet, fast);
            const DecodeResult b = decode_tcp_segment(LinkType::kIpv4, raw_ip, general);
            ASSERT_EQ(a, b) << "total " << total << " offset " << offset << " cut " << cut;
            ++compared;
            if (a != DecodeResult::kTcpSegment) continue;
            ++segments;
            EXPECT_EQ(fast.src, general.src);
            EXPECT_EQ(fast.dst, general.dst);
            EXPECT_EQ(fast.src_port, general.src_port);
            EXPECT_EQ(fast.dst_port, general.dst_port);
            EXPECT_EQ(fast.seq, general.seq);
            EXPECT_EQ(fast.ack, general.ack);
            EXPECT_EQ(fast.tcp_flags, general.tcp_flags);
            EXPECT_EQ(fast.payload.data() - f.data(), general.payload.data() - ip.data() + 14);
            EXPECT_EQ(fast.payload.size(), general.payload.size());
          }
        }
      }
    }
  }
  EXPECT_GT(compared, 1000);
  EXPECT_GT(segments, 10);
}

TEST(PacketDecoderTest, Ipv6ExtensionHeaderChain) {
  Frame rest;
  test::ipv6_options_header(rest, 43);     // hop-by-hop -> routing
  test::ipv6_options_header(rest, 60, 1);  // routing (16 bytes) -> destination options
  test::ipv6_options_header(rest, 51);     // destination options -> AH
  rest.push_back(6);                       // AH -> TCP
  rest.push_back(4);                       // (4 + 2) * 4 = 24 bytes
  rest.insert(rest.end(), 22, 0);
  const Frame tcp = test::tcp_segment(5000, 443, "v6 payload");
  rest.insert(rest.end(), tcp.begin(), tcp.end());
  Frame f;
  test::ethernet(f, 0x86dd);
  test::ipv6(f, 0, rest);
  PacketView v;
  ASSERT_EQ(decode(LinkType::kEthernet, f, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_EQ(v.dst_port, 443);
  EXPECT_EQ(text(v.payload), "v6 payload");
}

TEST(PacketDecoderTest, Ipv6Fragments) {
  const Frame tcp = test::tcp_segment(1, 80, "frag");
  Frame first;
  test::ipv6_fragment_header(first, 6, 0, true);
  first.insert(first.end(), tcp.begin(), tcp.end());
  EXPECT_EQ(decode(LinkType::kRawIp, ipv6_packet(44, first)), DecodeResult::kIpv6Fragment);
  Frame later;
  test::ipv6_fragment_header(later, 6, 10, false);
  later.insert(later.end(), 16, 'z');
  EXPECT_EQ(decode(LinkType::kRawIp, ipv6_packet(44, later)), DecodeResult::kIpv6Fragment);
  Frame atomic;  // RFC 6946: offset 0, no more fragments — a whole packet
  test::ipv6_fragment_header(atomic, 6, 0, false);
  atomic.insert(atomic.end(), tcp.begin(), tcp.end());
  PacketView v;
  const Frame atomic_packet = ipv6_packet(44, atomic);
  ASSERT_EQ(decode(LinkType::kRawIp, atomic_packet, v), DecodeResult::kTcpSegment);
  EXPECT_EQ(text(v.payload), "frag");
}

TEST(PacketDecoderTest, Ipv6ExtensionHeaderCountIsBounded) {
  auto chain = [](int headers) {
    Frame rest;
    for (int i = 0; i < headers; ++i) test::ipv6_options_header(rest, i + 1 < headers ? 60 : 6);
    const Frame tcp = test::tcp_segment(1, 80, "x");
    rest.insert(rest.end(), tcp.begin(), tcp.end());
    return ipv6_packet(60, rest);
  };
  EXPECT_EQ(decode(LinkType::kRawIp, chain(kMaxIpv6ExtensionHeaders)), DecodeResult::kTcpSegment);
  EXPECT_EQ(decode(LinkType::kRawIp, chain(kMaxIpv6ExtensionHeaders + 1)), DecodeResult::kIpv6TooManyExtHeaders);
}

TEST(PacketDecoderTest, Ipv6HeadersPastPayloadLengthAreMalformed) {
  Frame rest;
  test::ipv6_options_header(rest, 6, 3);  // 32 bytes
  Frame f = ipv6_packet(0, rest);
  f[5] = 16;  // payload length says 16
  f.resize(40 + 16);
  EXPECT_EQ(decode(LinkType::kRawIp, f), DecodeResult::kBadIpv6Header);
  Frame wrong_version = ipv6_packet(6, test::tcp_segment(1, 80, "x"));
  wrong_version[0] = 0x40;
  EXPECT_EQ(decode(LinkType::kIpv6, wrong_version), DecodeResult::kBadIpv6Header);
}

// Every prefix of a valid frame is decoded from its own exact-size buffer, so
// an over-read is an ASan error; a prefix shorter than the IP packet must
// never be taken for a segment.
void expect_every_prefix_rejected(LinkType link, const Frame& full, std::size_t packet_end) {
  PacketDecoder decoder;
  for (std::size_t n = 0; n < full.size(); ++n) {
    const Frame prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    PacketView v;
    const bool ok = decoder.decode(link, test::raw(prefix), v);
    EXPECT_EQ(ok, n >= packet_end) << "prefix " << n;
    // Also as a snaplen cut of the full frame.
    RawFrame cut = test::raw(prefix);
    cut.wire_length = static_cast<std::uint32_t>(full.size());
    EXPECT_EQ(decoder.decode(link, cut, v), n >= packet_end) << "snaplen prefix " << n;
  }
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kDecodeResultCount; ++i) sum += decoder.count(static_cast<DecodeResult>(i));
  EXPECT_EQ(decoder.frames(), 2 * full.size());
  EXPECT_EQ(sum, decoder.frames());
}

TEST(PacketDecoderTest, EveryTruncationOfEthernetIpv4IsCounted) {
  Frame f;
  test::ethernet(f, 0x8100);
  test::vlan_tag(f, 7, 0x0800);
  test::ipv4(f, test::tcp_segment(1, 80, "GET", 0x18, {1, 1, 1, 1}), 6, 0x4000, {1, 1, 1, 0});
  const std::size_t packet_end = f.size();
  f.resize(64, 0);  // padding
  expect_every_prefix_rejected(LinkType::kEthernet, f, packet_end);
}

TEST(PacketDecoderTest, EveryTruncationOfIpv6WithExtensionsIsCounted) {
  Frame rest;
  test::ipv6_options_header(rest, 60);
  test::ipv6_options_header(rest, 44, 1);
  test::ipv6_fragment_header(rest, 6, 0, false);
  const Frame tcp = test::tcp_segment(1, 80, "GET /");
  rest.insert(rest.end(), tcp.begin(), tcp.end());
  Frame f;
  test::put16(f, 0x86dd);
  f.insert(f.end(), 18, 0);  // rest of the SLL2 header
  test::ipv6(f, 0, rest);
  expect_every_prefix_rejected(LinkType::kLinuxSll2, f, f.size());
}

TEST(PacketDecoderTest, EveryTruncationOfLoopbackIsCounted) {
  Frame f{0, 0, 0, 2};
  test::ipv4(f, test::tcp_segment(1, 80, "x"));
  expect_every_prefix_rejected(LinkType::kLoop, f, f.size());
}

// Random bytes on every link type, from exact-size buffers: no crash, no
// over-read, every frame counted once.
TEST(PacketDecoderTest, RandomBytesAreCountedNotCrashedOn) {
  std::mt19937 rng(12345);
  PacketDecoder decoder;
  const Frame seed = ethernet_ipv4_tcp("GET / HTTP/1.1\r\n");
  for (int i = 0; i < 3000; ++i) {
    Frame f = seed;
    f.resize(rng() % 100);
    for (int flips = 0; flips < 4 && !f.empty(); ++flips) f[rng() % f.size()] = static_cast<std::uint8_t>(rng());
    PacketView v;
    const auto link = static_cast<LinkType>(rng() % 9);  // includes one unknown value
    if (decoder.decode(link, test::raw(f), v)) {
      EXPECT_GE(v.payload.data(), f.data());
      EXPECT_LE(v.payload.data() + v.payload.size(), f.data() + f.size());
    }
  }
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kDecodeResultCount; ++i) sum += decoder.count(static_cast<DecodeResult>(i));
  EXPECT_EQ(sum, 3000u);
}

class MapSink : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

TEST(PacketDecoderTest, ReportNamesEveryReason) {
  PacketDecoder decoder;
  PacketView v;
  const Frame good = ethernet_ipv4_tcp("x");
  Frame udp;
  test::ethernet(udp, 0x0800);
  test::ipv4(udp, Frame(8, 0), 17);
  EXPECT_TRUE(decoder.decode(LinkType::kEthernet, test::raw(good), v));
  EXPECT_TRUE(decoder.decode(LinkType::kEthernet, test::raw(good), v));
  EXPECT_FALSE(decoder.decode(LinkType::kEthernet, test::raw(udp), v));
  MapSink sink;
  decoder.report(sink);
  EXPECT_EQ(sink.values["decode.frames"], 3u);
  EXPECT_EQ(sink.values["decode.tcp_segments"], 2u);
  EXPECT_EQ(sink.values["decode.not_tcp"], 1u);
  EXPECT_EQ(sink.values.count("decode.ipv6_fragment"), 1u);
  EXPECT_EQ(sink.values.size(), kDecodeResultCount + 1);
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kDecodeResultCount; ++i) {
    const std::string_view name = decode_counter_name(static_cast<DecodeResult>(i));
    EXPECT_EQ(name.substr(0, 7), "decode.");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kDecodeResultCount);
}

}  // namespace
}  // namespace ipattrib::agent
