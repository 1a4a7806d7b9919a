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

// One endpoint folded into 64 bits (address halves and port). Folding first
// and ordering the two folded values makes the hash symmetric without
// comparing 36 bytes; endpoints that fold alike only make both orders equal.
std::uint64_t fold(const IpAddress& address, std::uint16_t port) {
  const std::uint8_t* bytes = address.bytes().data();
  return mix64(load64(bytes) * 0x9e3779b97f4a7c15ULL ^ load64(bytes + 8) ^ (std::uint64_t{port} << 17));
}

}  // namespace

std::uint32_t symmetric_flow_hash(const PacketView& segment) {
  const std::uint64_t a = fold(segment.src, segment.src_port);
  const std::uint64_t b = fold(segment.dst, segment.dst_port);
  const std::uint64_t h = mix64(std::min(a, b) ^ (std::max(a, b) * 0xc2b2ae3d27d4eb4fULL));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

bool frame_flow_hash(LinkType link_type, const RawFrame& frame, std::uint32_t& hash) {
  PacketView view;
  if (decode_tcp_segment(link_type, frame, view) != DecodeResult::kTcpSegment) return false;
  hash = symmetric_flow_hash(view);
  return true;
}

}  // namespace ipattrib::agent
