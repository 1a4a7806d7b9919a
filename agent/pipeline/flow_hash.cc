#include "agent/pipeline/flow_hash.h"

#include <algorithm>
#include <cstring>

#include "agent/decode/packet_decoder.h"

#include "ipattrib/hash_mix.h"

namespace ipattrib::agent {
namespace {

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// One endpoint folded into 64 bits: the two halves of its 16-byte address
// (IPv4 as ::ffff:a.b.c.d) and its port. Folding first and ordering the two
// folded values makes the hash symmetric without comparing 36 bytes;
// endpoints that fold alike only make both orders equal.
std::uint64_t fold(std::uint64_t high, std::uint64_t low, std::uint16_t port) {
  return mix64(high * 0x9e3779b97f4a7c15ULL ^ low ^ (std::uint64_t{port} << 17));
}

std::uint64_t fold(const IpAddress& address, std::uint16_t port) {
  const std::uint8_t* bytes = address.bytes().data();
  return fold(load64(bytes), load64(bytes + 8), port);
}

// The low half of ::ffff:a.b.c.d (its high half is zero) from the packet's
// four address bytes.
std::uint64_t v4_mapped_low(const std::uint8_t* four_bytes) {
  std::uint8_t low[8] = {0, 0, 0xff, 0xff};
  std::memcpy(low + 4, four_bytes, 4);
  return load64(low);
}

std::uint32_t combine(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t h = mix64(std::min(a, b) ^ (std::max(a, b) * 0xc2b2ae3d27d4eb4fULL));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// The TCP header at `tcp` (bytes up to `end`) is one decode_tcp accepts.
bool tcp_header_ok(const std::uint8_t* tcp, const std::uint8_t* end) {
  if (end - tcp < 20) return false;
  const std::ptrdiff_t header_length = (tcp[12] >> 4) * 4;
  return header_length >= 20 && header_length <= end - tcp;
}

// The common frame shapes — Ethernet with up to two VLAN tags, then IPv4 or
// IPv6 without extension headers, then TCP — hashed straight from fixed
// offsets. Accepts only frames the full decoder accepts with the same
// endpoints (every check it makes on them is made here); anything else is
// left to the full decoder (false).
bool fast_ethernet_hash(const RawFrame& frame, std::uint32_t& hash) {
  const std::uint8_t* p = frame.data.data();
  const std::uint8_t* const end = p + frame.data.size();
  if (end - p < 14) return false;
  std::uint16_t type = load_be16(p + 12);
  p += 14;
  for (int tags = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100; ++tags) {
    if (tags == 2 || end - p < 4) return false;
    type = load_be16(p + 2);
    p += 4;
  }
  if (type == 0x0800) {
    if (end - p < 20 || p[0] != 0x45) return false;  // version 4, no options
    const std::size_t total_length = load_be16(p + 2);
    if (total_length < 20 || total_length > static_cast<std::size_t>(end - p)) return false;
    if ((load_be16(p + 6) & 0x3fff) != 0 || p[9] != 6) return false;  // a fragment, or not TCP
    const std::uint8_t* tcp = p + 20;
    if (!tcp_header_ok(tcp, p + total_length)) return false;
    hash = combine(fold(0, v4_mapped_low(p + 12), load_be16(tcp)), fold(0, v4_mapped_low(p + 16), load_be16(tcp + 2)));
    return true;
  }
  if (type == 0x86dd) {
    if (end - p < 40 || (p[0] >> 4) != 6 || p[6] != 6) return false;  // not IPv6, or not TCP next
    const std::size_t payload_length = load_be16(p + 4);
    if (payload_length == 0 || payload_length > static_cast<std::size_t>(end - p) - 40) return false;
    const std::uint8_t* tcp = p + 40;
    if (!tcp_header_ok(tcp, tcp + payload_length)) return false;
    hash = combine(fold(load64(p + 8), load64(p + 16), load_be16(tcp)),
                   fold(load64(p + 24), load64(p + 32), load_be16(tcp + 2)));
    return true;
  }
  return false;
}

}  // namespace

std::uint32_t symmetric_flow_hash(const PacketView& segment) {
  return combine(fold(segment.src, segment.src_port), fold(segment.dst, segment.dst_port));
}

bool frame_flow_hash(LinkType link_type, const RawFrame& frame, std::uint32_t& hash) {
  if (link_type == LinkType::kEthernet && fast_ethernet_hash(frame, hash)) return true;
  PacketView view;
  if (decode_tcp_segment(link_type, frame, view) != DecodeResult::kTcpSegment) return false;
  hash = symmetric_flow_hash(view);
  return true;
}

}  // namespace ipattrib::agent
