#include "bench/generator/frame_encoder.h"

#include <cstring>

namespace ipattrib::bench {
namespace {

constexpr std::uint8_t kGatewayMac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
constexpr std::uint8_t kRouterMac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0xfe};
constexpr std::size_t kTcpHeaderLength = 20;

std::uint8_t* put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
  return p + 2;
}

std::uint8_t* put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
  return p + 4;
}

std::uint16_t ipv4_header_checksum(const std::uint8_t* h) {
  std::uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += (std::uint32_t(h[i]) << 8) | h[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

FrameEncoder::FrameEncoder(const HostAddress& src, std::uint16_t src_port, const HostAddress& dst,
                           std::uint16_t dst_port, const LinkTags& tags, bool toward_server,
                           bool ipv6_destination_options, bool tcp_timestamps)
    : v6_(src.v6), timestamps_(tcp_timestamps), src_port_(src_port), dst_port_(dst_port) {
  std::uint8_t* p = header_;
  std::memcpy(p, toward_server ? kGatewayMac : kRouterMac, 6);
  std::memcpy(p + 6, toward_server ? kRouterMac : kGatewayMac, 6);
  p += 12;
  if (tags.count == 2) {
    p = put_u16(p, 0x88a8);
    p = put_u16(p, tags.vlan_ids[0]);
  }
  if (tags.count >= 1) {
    p = put_u16(p, 0x8100);
    p = put_u16(p, tags.vlan_ids[tags.count - 1]);
  }
  p = put_u16(p, v6_ ? 0x86dd : 0x0800);
  ip_offset_ = static_cast<std::uint8_t>(p - header_);
  if (!v6_) {
    p[0] = 0x45;
    p[6] = 0x40;  // don't fragment
    p[8] = toward_server ? 57 : 64;
    p[9] = 6;
    std::memcpy(p + 12, src.bytes.data(), 4);
    std::memcpy(p + 16, dst.bytes.data(), 4);
    p += 20;
  } else {
    p[0] = 0x60;
    p[6] = ipv6_destination_options ? 60 : 6;
    p[7] = toward_server ? 57 : 64;
    std::memcpy(p + 8, src.bytes.data(), 16);
    std::memcpy(p + 24, dst.bytes.data(), 16);
    p += 40;
    if (ipv6_destination_options) {
      const std::uint8_t options[8] = {6, 0, 1, 4, 0, 0, 0, 0};  // next header TCP, one PadN option
      std::memcpy(p, options, 8);
      p += 8;
      extension_length_ = 8;
    }
  }
  header_length_ = static_cast<std::uint8_t>(p - header_);
  ip_id_ = static_cast<std::uint16_t>(src_port * 7919u);
}

void FrameEncoder::write(PcapFileWriter& pcap, std::int64_t ts_us, const TcpSegment& s) {
  std::uint8_t* frame = pcap.frame_space();
  std::memcpy(frame, header_, header_length_);
  const bool syn = (s.flags & tcp_flag::kSyn) != 0;
  const std::size_t options_length = syn ? 8 : timestamps_ ? 12 : 0;
  const std::size_t tcp_length = kTcpHeaderLength + options_length + s.length;

  std::uint8_t* ip = frame + ip_offset_;
  if (!v6_) {
    put_u16(ip + 2, static_cast<std::uint16_t>(20 + tcp_length));
    put_u16(ip + 4, ip_id_++);
    put_u16(ip + 10, ipv4_header_checksum(ip));
  } else {
    put_u16(ip + 4, static_cast<std::uint16_t>(extension_length_ + tcp_length));
  }

  std::uint8_t* tcp = frame + header_length_;
  put_u16(tcp, src_port_);
  put_u16(tcp + 2, dst_port_);
  put_u32(tcp + 4, s.seq);
  put_u32(tcp + 8, s.ack);
  tcp[12] = static_cast<std::uint8_t>(((kTcpHeaderLength + options_length) / 4) << 4);
  tcp[13] = s.flags;
  put_u16(tcp + 14, 64240);
  put_u32(tcp + 16, 0);  // checksum, urgent pointer
  std::uint8_t* options = tcp + kTcpHeaderLength;
  if (syn) {
    const std::uint8_t syn_options[8] = {2, 4, 0x05, 0x78, 1, 1, 4, 2};  // MSS 1400, NOP, NOP, SACK permitted
    std::memcpy(options, syn_options, 8);
  } else if (timestamps_) {
    options[0] = 1, options[1] = 1, options[2] = 8, options[3] = 10;
    put_u32(options + 4, s.ts_value);
    put_u32(options + 8, s.ts_value - 3);
  }
  if (s.length > 0) std::memcpy(tcp + kTcpHeaderLength + options_length, s.payload, s.length);
  pcap.commit_frame(ts_us, header_length_ + tcp_length);
}

}  // namespace ipattrib::bench
