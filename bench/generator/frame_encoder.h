// FrameEncoder: writes the Ethernet (+802.1Q/QinQ) / IPv4|IPv6 / TCP frames of
// one direction of one connection straight into the pcap buffer. The link and
// network headers are built once per connection; per packet only lengths,
// IPv4 id and checksum, and the TCP header change. TCP checksums are left
// zero (nothing is sent on a network; decoders do not verify them).
#pragma once

#include <cstdint>

#include "bench/generator/pcap_file_writer.h"
#include "bench/generator/traffic_population.h"

namespace ipattrib::bench {

namespace tcp_flag {
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
}

struct LinkTags {
  std::uint8_t count = 0;  // 0, 1 (802.1Q) or 2 (QinQ: 0x88a8 outer, 0x8100 inner)
  std::uint16_t vlan_ids[2] = {0, 0};
};

struct TcpSegment {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  const std::uint8_t* payload = nullptr;
  std::size_t length = 0;
  std::uint32_t ts_value = 0;  // for the timestamps option
};

class FrameEncoder {
 public:
  FrameEncoder() = default;
  FrameEncoder(const HostAddress& src, std::uint16_t src_port, const HostAddress& dst, std::uint16_t dst_port,
               const LinkTags& tags, bool toward_server, bool ipv6_destination_options, bool tcp_timestamps);

  // SYN and SYN/ACK carry MSS + SACK-permitted options; with timestamps on,
  // every other segment carries the timestamps option.
  void write(PcapFileWriter& pcap, std::int64_t ts_us, const TcpSegment& segment);

 private:
  std::uint8_t header_[80] = {};  // at most 14 + 8 (QinQ) + 40 + 8 (IPv6 destination options)
  std::uint8_t header_length_ = 0;  // link + network (+ IPv6 extension) header bytes
  std::uint8_t ip_offset_ = 0;
  std::uint8_t extension_length_ = 0;
  bool v6_ = false;
  bool timestamps_ = false;
  std::uint16_t src_port_ = 0;
  std::uint16_t dst_port_ = 0;
  std::uint16_t ip_id_ = 0;
};

}  // namespace ipattrib::bench
