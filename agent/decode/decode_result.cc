#include "agent/decode/decode_result.h"

#include <array>

namespace ipattrib::agent {

std::string_view decode_counter_name(DecodeResult result) {
  static constexpr std::array<std::string_view, kDecodeResultCount> kNames = {
      "decode.tcp_segments",
      "decode.unsupported_link",
      "decode.truncated_link",
      "decode.unsupported_ethertype",
      "decode.vlan_too_deep",
      "decode.unsupported_address_family",
      "decode.unsupported_ip_version",
      "decode.snaplen_truncated",
      "decode.truncated_ipv4",
      "decode.bad_ipv4_header",
      "decode.ipv4_fragment",
      "decode.truncated_ipv6",
      "decode.bad_ipv6_header",
      "decode.ipv6_fragment",
      "decode.ipv6_too_many_ext_headers",
      "decode.not_tcp",
      "decode.truncated_tcp",
      "decode.bad_tcp_header",
  };
  const auto i = static_cast<std::size_t>(result);
  return i < kNames.size() ? kNames[i] : std::string_view("decode.unknown");
}

}  // namespace ipattrib::agent
