// Fuzz target: IpAddress::parse, which reads dotted IPv4 itself, against
// inet_pton (on the NUL-terminated text, as parse() once called it), and
// Cidr::contains, which compares words, against a bit-by-bit reference.
// Input: "ADDRESS" or "ADDRESS OTHER"; when both parse, OTHER is checked
// against ADDRESS/n for every prefix length n of ADDRESS's family.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "ipattrib/ip_address.h"
#include "tests/support/ip_address_reference.h"

namespace {

using ipattrib::Cidr;
using ipattrib::IpAddress;
using ipattrib::test_support::contains_bitwise;
using ipattrib::test_support::parse_with_inet_pton;

void require(bool condition) {
  if (!condition) std::abort();
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
