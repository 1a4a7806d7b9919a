#include "agent/decode/packet_decoder.h"

#include <algorithm>
#include <cstddef>
#include <span>

namespace ipattrib::agent {
namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;
constexpr std::uint16_t kEthertypeVlan = 0x8100;
constexpr std::uint16_t kEthertypeQinq = 0x88a8;
constexpr std::uint16_t kEthertypeQinqLegacy = 0x9100;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kSllHeader = 16;
constexpr std::size_t kSll2Header = 20;
constexpr std::size_t kLoopbackHeader = 4;
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kIpv6FragmentHeader = 8;
constexpr std::size_t kTcpMinHeader = 20;

// BSD address families as they appear in DLT_NULL/DLT_LOOP headers; IPv6 has
// a different value on each BSD (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30).
constexpr std::uint32_t kAfInet = 2;
constexpr std::uint32_t kAfInet6Bsd = 24;
constexpr std::uint32_t kAfInet6FreeBsd = 28;
constexpr std::uint32_t kAfInet6Darwin = 30;

constexpr std::uint8_t kIpProtoHopByHop = 0;
constexpr std::uint8_t kIpProtoTcp = 6;
constexpr std::uint8_t kIpProtoRouting = 43;
constexpr std::uint8_t kIpProtoFragment = 44;
constexpr std::uint8_t kIpProtoAh = 51;
constexpr std::uint8_t kIpProtoDestinationOptions = 60;

std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

std::uint32_t load_be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

std::uint32_t byte_swap32(std::uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

// The bytes still to decode, and whether the capture cut the frame short
// (snaplen): a length field pointing past the end is then the capture's
// doing, not a malformed packet, and is counted apart.
struct Layer {
  Bytes bytes;
  bool cut_by_snaplen = false;
};

DecodeResult decode_tcp(Bytes segment, PacketView& out) {
  if (segment.size() < kTcpMinHeader) return DecodeResult::kTruncatedTcp;
  const std::size_t header_length = static_cast<std::size_t>(segment[12] >> 4) * 4;
  if (header_length < kTcpMinHeader || header_length > segment.size()) return DecodeResult::kBadTcpHeader;
  out.src_port = load_be16(segment.data());
  out.dst_port = load_be16(segment.data() + 2);
  out.seq = load_be32(segment.data() + 4);
  out.ack = load_be32(segment.data() + 8);
  out.tcp_flags = segment[13];
  out.payload = segment.subspan(header_length);
  return DecodeResult::kTcpSegment;
}

DecodeResult decode_ipv4(Layer layer, PacketView& out) {
  const Bytes p = layer.bytes;
  if (p.size() < kIpv4MinHeader) return DecodeResult::kTruncatedIpv4;
  if ((p[0] >> 4) != 4) return DecodeResult::kBadIpv4Header;
  const std::size_t header_length = std::size_t{p[0] & 0x0fu} * 4;
  std::size_t total_length = load_be16(p.data() + 2);
  // Zero is what segmentation offload leaves on the sending host's copy; the
  // captured bytes are then the packet.
  if (total_length == 0) total_length = p.size();
  if (header_length < kIpv4MinHeader || total_length < header_length) return DecodeResult::kBadIpv4Header;
  if (p.size() < header_length) return DecodeResult::kTruncatedIpv4;
  // MF flag (0x2000) or a fragment offset (0x1fff): a piece of a larger packet.
  if ((load_be16(p.data() + 6) & 0x3fff) != 0) return DecodeResult::kIpv4Fragment;
  if (p[9] != kIpProtoTcp) return DecodeResult::kNotTcp;
  if (total_length > p.size()) {
    return layer.cut_by_snaplen ? DecodeResult::kSnaplenTruncated : DecodeResult::kTruncatedIpv4;
  }
  out.src = IpAddress::from_v4_bytes(p.data() + 12);
  out.dst = IpAddress::from_v4_bytes(p.data() + 16);
  // Slicing at total_length drops Ethernet padding of short frames.
  return decode_tcp(p.subspan(header_length, total_length - header_length), out);
}

DecodeResult decode_ipv6(Layer layer, PacketView& out) {
  const Bytes p = layer.bytes;
  if (p.size() < kIpv6Header) return DecodeResult::kTruncatedIpv6;
  if ((p[0] >> 4) != 6) return DecodeResult::kBadIpv6Header;
  const std::size_t payload_length = load_be16(p.data() + 4);
  // Zero: a jumbogram or segmentation offload; the captured bytes are the packet.
  const std::size_t end = payload_length == 0 ? p.size() : kIpv6Header + payload_length;
  const std::size_t limit = std::min(end, p.size());
  const DecodeResult past_capture =
      layer.cut_by_snaplen ? DecodeResult::kSnaplenTruncated : DecodeResult::kTruncatedIpv6;
  // A header running past `limit` runs past either the capture or the
  // declared payload length; the latter is a malformed packet.
  const DecodeResult past_limit = limit < end ? past_capture : DecodeResult::kBadIpv6Header;

  std::uint8_t next_header = p[6];
  std::size_t offset = kIpv6Header;
  for (int extension_headers = 0; next_header != kIpProtoTcp; ++extension_headers) {
    std::size_t length = 0;
    switch (next_header) {
      case kIpProtoHopByHop:
      case kIpProtoRouting:
      case kIpProtoDestinationOptions:
      case kIpProtoAh:
        if (limit - offset < 2) return past_limit;
        length =
            next_header == kIpProtoAh ? (std::size_t{p[offset + 1]} + 2) * 4 : (std::size_t{p[offset + 1]} + 1) * 8;
        break;
      case kIpProtoFragment:
        if (limit - offset < kIpv6FragmentHeader) return past_limit;
        // Offset and M flag both zero is an atomic fragment (RFC 6946): the
        // whole packet, decodable as is.
        if ((load_be16(p.data() + offset + 2) & 0xfff9) != 0) return DecodeResult::kIpv6Fragment;
        length = kIpv6FragmentHeader;
        break;
      default: return DecodeResult::kNotTcp;  // UDP, ICMPv6, ESP, no next header (59), ...
    }
    if (extension_headers == kMaxIpv6ExtensionHeaders) return DecodeResult::kIpv6TooManyExtHeaders;
    if (limit - offset < length) return past_limit;
    next_header = p[offset];
    offset += length;
  }
  if (end > p.size()) return past_capture;
  out.src = IpAddress::from_v6_bytes(p.data() + 8);
  out.dst = IpAddress::from_v6_bytes(p.data() + 24);
  return decode_tcp(p.subspan(offset, end - offset), out);
}

// Dispatches on an Ethernet protocol number, first stepping over any stacked
// 802.1Q / 802.1ad tags (each: 2 bytes TCI, 2 bytes inner type).
DecodeResult decode_ethertype(std::uint16_t type, Layer layer, PacketView& out) {
  for (int tags = 0; type == kEthertypeVlan || type == kEthertypeQinq || type == kEthertypeQinqLegacy; ++tags) {
    if (tags == kMaxVlanTags) return DecodeResult::kVlanTooDeep;
    if (layer.bytes.size() < kVlanTag) return DecodeResult::kTruncatedLink;
    type = load_be16(layer.bytes.data() + 2);
    layer.bytes = layer.bytes.subspan(kVlanTag);
  }
  switch (type) {
    case kEthertypeIpv4: return decode_ipv4(layer, out);
    case kEthertypeIpv6: return decode_ipv6(layer, out);
    default: return DecodeResult::kUnsupportedEthertype;
  }
}

DecodeResult decode_address_family(std::uint32_t family, Layer layer, PacketView& out) {
  switch (family) {
    case kAfInet: return decode_ipv4(layer, out);
    case kAfInet6Bsd:
    case kAfInet6FreeBsd:
    case kAfInet6Darwin: return decode_ipv6(layer, out);
    default: return DecodeResult::kUnsupportedAddressFamily;
  }
}

DecodeResult decode_raw_ip(Layer layer, PacketView& out) {
  if (layer.bytes.empty()) return DecodeResult::kTruncatedLink;
  switch (layer.bytes[0] >> 4) {
    case 4: return decode_ipv4(layer, out);
    case 6: return decode_ipv6(layer, out);
    default: return DecodeResult::kUnsupportedIpVersion;
  }
}

// Skips a fixed-size link header whose protocol field is an Ethertype.
DecodeResult decode_after_link_header(Layer layer, std::size_t header_length, std::size_t type_offset,
                                      PacketView& out) {
  if (layer.bytes.size() < header_length) return DecodeResult::kTruncatedLink;
  const std::uint16_t type = load_be16(layer.bytes.data() + type_offset);
  layer.bytes = layer.bytes.subspan(header_length);
  return decode_ethertype(type, layer, out);
}

// Ethernet, IPv4 without options, TCP: nearly every frame a gateway sees.
// Decoded here in one straight run over fixed offsets; false sends the frame
// through the general steps below, which give these frames the same view.
bool decode_ethernet_ipv4_tcp(const RawFrame& frame, PacketView& out) {
  const std::uint8_t* p = frame.data.data();
  const std::size_t size = frame.data.size();
  if (size < kEthernetHeader + kIpv4MinHeader + kTcpMinHeader) return false;
  if (load_be16(p + 12) != kEthertypeIpv4) return false;
  const std::uint8_t* ip = p + kEthernetHeader;
  // Version 4, 20-byte header, TCP, not a fragment.
  if (ip[0] != 0x45 || ip[9] != kIpProtoTcp || (load_be16(ip + 6) & 0x3fff) != 0) return false;
  const std::size_t total_length = load_be16(ip + 2);
  if (total_length < kIpv4MinHeader + kTcpMinHeader || total_length > size - kEthernetHeader) return false;
  const std::uint8_t* tcp = ip + kIpv4MinHeader;
  const std::size_t segment_length = total_length - kIpv4MinHeader;
  const std::size_t tcp_header = static_cast<std::size_t>(tcp[12] >> 4) * 4;
  if (tcp_header < kTcpMinHeader || tcp_header > segment_length) return false;
  out.src = IpAddress::from_v4_bytes(ip + 12);
  out.dst = IpAddress::from_v4_bytes(ip + 16);
  out.src_port = load_be16(tcp);
  out.dst_port = load_be16(tcp + 2);
  out.seq = load_be32(tcp + 4);
  out.ack = load_be32(tcp + 8);
  out.tcp_flags = tcp[13];
  out.payload = Bytes(tcp + tcp_header, segment_length - tcp_header);
  return true;
}

}  // namespace

DecodeResult decode_tcp_segment(LinkType link_type, const RawFrame& frame, PacketView& out) {
  out.ts_us = frame.ts_us;
  if (link_type == LinkType::kEthernet && decode_ethernet_ipv4_tcp(frame, out)) return DecodeResult::kTcpSegment;
  Layer layer{frame.data, frame.wire_length > frame.data.size()};
  switch (link_type) {
    case LinkType::kEthernet: return decode_after_link_header(layer, kEthernetHeader, 12, out);
    case LinkType::kLinuxSll: return decode_after_link_header(layer, kSllHeader, 14, out);
    case LinkType::kLinuxSll2: return decode_after_link_header(layer, kSll2Header, 0, out);
    case LinkType::kNull:
    case LinkType::kLoop: {
      if (layer.bytes.size() < kLoopbackHeader) return DecodeResult::kTruncatedLink;
      std::uint32_t family = load_be32(layer.bytes.data());
      // DLT_NULL is in the capturing host's byte order, which need not be
      // ours; families are small, so a value with high bits set is swapped.
      if (link_type == LinkType::kNull && family > 0xffff) family = byte_swap32(family);
      layer.bytes = layer.bytes.subspan(kLoopbackHeader);
      return decode_address_family(family, layer, out);
    }
    case LinkType::kRawIp: return decode_raw_ip(layer, out);
    case LinkType::kIpv4: return decode_ipv4(layer, out);
    case LinkType::kIpv6: return decode_ipv6(layer, out);
  }
  return DecodeResult::kUnsupportedLink;
}

void PacketDecoder::report(StatsSink& sink) const {
  sink.counter("decode.frames", frames_);
  for (std::size_t i = 0; i < kDecodeResultCount; ++i) {
    sink.counter(decode_counter_name(static_cast<DecodeResult>(i)), counts_[i]);
  }
}

}  // namespace ipattrib::agent
