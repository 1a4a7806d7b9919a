// Fuzz target: IpAddress::parse, which reads dotted IPv4 itself, against
// inet_pton (on the NUL-terminated text, as parse() once called it), and
// Cidr::contains, which compares words, against a bit-by-bit reference.
// Input: "ADDRESS" or "ADDRESS OTHER"; when both parse, OTHER is checked
// against ADDRESS/n for every prefix length n of ADDRESS's family.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "ipattrib/ip_address.h"

namespace {

using ipattrib::Cidr;
using ipattrib::IpAddress;

void require(bool condition) {
  if (!condition) std::abort();
}

std::optional<IpAddress> parse_with_inet_pton(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= IpAddress::kMaxTextLength) return std::nullopt;
  const std::string copy(text);
  std::uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, copy.c_str(), raw) != 1) return std::nullopt;
    return IpAddress::from_v4_bytes(raw);
  }
  if (inet_pton(AF_INET6, copy.c_str(), raw) != 1) return std::nullopt;
  return IpAddress::from_v6_bytes(raw);
}

bool contains_bitwise(const Cidr& cidr, const IpAddress& address) {
  if (!address.is_set() || address.is_v4() != cidr.network.is_v4()) return false;
  const int bits = cidr.network.is_v4() ? cidr.prefix_length + 96 : cidr.prefix_length;
  for (int bit = 0; bit < bits; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((address.bytes()[bit / 8] & mask) != (cidr.network.bytes()[bit / 8] & mask)) return false;
  }
  return true;
}

std::optional<IpAddress> parse_checked(std::string_view text) {
  const std::optional<IpAddress> parsed = IpAddress::parse(text);
  require(parsed == parse_with_inet_pton(text));
  if (parsed) require(IpAddress::parse(parsed->to_string()) == parsed);  // canonical text reads back
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t space = input.find(' ');
  const std::optional<IpAddress> address = parse_checked(input.substr(0, space));
  if (space == std::string_view::npos) return 0;
  const std::optional<IpAddress> other = parse_checked(input.substr(space + 1));
  if (!address || !other) return 0;
  const int max_length = address->is_v4() ? 32 : 128;
  for (int length = 0; length <= max_length; ++length) {
    const std::optional<Cidr> cidr = Cidr::parse(address->to_string() + "/" + std::to_string(length));
    require(cidr.has_value());
    require(cidr->contains(*address));
    require(cidr->contains(*other) == contains_bitwise(*cidr, *other));
  }
  return 0;
}
