// Slow, obviously right references for IpAddress::parse and Cidr::contains,
// shared by ip_address_test and the fuzz_ip_address target.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipattrib/ip_address.h"

namespace ipattrib::test_support {

// What IpAddress::parse must accept: inet_pton on the text (brackets
// stripped), which stops at an embedded NUL as the C string does.
inline std::optional<IpAddress> parse_with_inet_pton(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= IpAddress::kMaxTextLength) return std::nullopt;
  const std::string copy(text);
  std::uint8_t raw[16];
  if (copy.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, copy.c_str(), raw) != 1) return std::nullopt;
    return IpAddress::from_v4_bytes(raw);
  }
  if (inet_pton(AF_INET6, copy.c_str(), raw) != 1) return std::nullopt;
  return IpAddress::from_v6_bytes(raw);
}

// Cidr::contains bit by bit.
inline bool contains_bitwise(const Cidr& cidr, const IpAddress& address) {
  if (!address.is_set() || address.is_v4() != cidr.network.is_v4()) return false;
  const int bits = cidr.network.is_v4() ? cidr.prefix_length + 96 : cidr.prefix_length;
  for (int bit = 0; bit < bits; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((address.bytes()[bit / 8] & mask) != (cidr.network.bytes()[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace ipattrib::test_support
