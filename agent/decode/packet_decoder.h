// PacketDecoder: turns a captured frame into a PacketView of the TCP segment
// it carries — link layer (Ethernet with stacked VLAN tags, Linux SLL/SLL2,
// BSD loopback, raw IP), IPv4 or IPv6 with extension headers, then TCP — as a
// flat sequence of bounds-checked steps over the frame's bytes. Never throws,
// never allocates, never copies: the view points into the frame. Every frame
// that is not a usable TCP segment is counted under its DecodeResult.
#pragma once

#include <array>
#include <cstdint>

#include "agent/capture/packet_source.h"
#include "agent/decode/decode_result.h"
#include "agent/decode/packet_view.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

// Bounds that keep a hostile frame from making the decoder loop long.
inline constexpr int kMaxVlanTags = 4;
inline constexpr int kMaxIpv6ExtensionHeaders = 8;

// Stateless decode of one frame. `out` is filled only on kTcpSegment.
// IP and TCP checksums are not verified: with checksum offload the capturing
// host routinely sees wrong ones on its own traffic.
DecodeResult decode_tcp_segment(LinkType link_type, const RawFrame& frame, PacketView& out);

class PacketDecoder {
 public:
  // True when `frame` held a TCP segment, now described by `out`.
  bool decode(LinkType link_type, const RawFrame& frame, PacketView& out) {
    const DecodeResult result = decode_tcp_segment(link_type, frame, out);
    ++frames_;
    ++counts_[static_cast<std::size_t>(result)];
    return result == DecodeResult::kTcpSegment;
  }

  std::uint64_t frames() const { return frames_; }
  std::uint64_t count(DecodeResult result) const { return counts_[static_cast<std::size_t>(result)]; }
  // decode.frames, then one counter per DecodeResult (zeros included, so the
  // sum over results always equals decode.frames).
  void report(StatsSink& sink) const;

 private:
  std::uint64_t frames_ = 0;
  std::array<std::uint64_t, kDecodeResultCount> counts_{};
};

}  // namespace ipattrib::agent
