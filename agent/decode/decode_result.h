// DecodeResult: what the decoder made of one frame — a usable TCP segment, or
// the one reason it is not. Each value is also a counter ("decode.<reason>"),
// so every frame the agent does not use is accounted for by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ipattrib::agent {

enum class DecodeResult : std::uint8_t {
  kTcpSegment,                // decode.tcp_segments: usable
  kUnsupportedLink,           // a LinkType value the decoder does not know
  kTruncatedLink,             // frame shorter than its link header (or VLAN tag)
  kUnsupportedEthertype,      // ARP, MPLS, LLDP, 802.3 length field, ...
  kVlanTooDeep,               // more stacked 802.1Q/QinQ tags than kMaxVlanTags
  kUnsupportedAddressFamily,  // DLT_NULL/DLT_LOOP family other than IPv4/IPv6
  kUnsupportedIpVersion,      // raw IP whose version nibble is neither 4 nor 6
  kSnaplenTruncated,          // IP packet cut short by the capture snaplen
  kTruncatedIpv4,             // IPv4 header or declared length beyond the frame
  kBadIpv4Header,             // version, IHL or total length inconsistent
  kIpv4Fragment,              // MF set or offset != 0; not reassembled
  kTruncatedIpv6,             // IPv6 header or declared length beyond the frame
  kBadIpv6Header,             // version wrong, extension headers past payload length
  kIpv6Fragment,              // non-atomic fragment header; not reassembled
  kIpv6TooManyExtHeaders,     // more extension headers than kMaxIpv6ExtensionHeaders
  kNotTcp,                    // UDP, ICMP, ESP, no-next-header, ...
  kTruncatedTcp,              // IP payload shorter than a TCP header
  kBadTcpHeader,              // data offset < 5 or beyond the segment
};

inline constexpr std::size_t kDecodeResultCount = static_cast<std::size_t>(DecodeResult::kBadTcpHeader) + 1;

// "decode.tcp_segments", "decode.ipv4_fragment", ...
std::string_view decode_counter_name(DecodeResult result);

}  // namespace ipattrib::agent
