#include "ipattrib/ip_address.h"

#include <arpa/inet.h>
#include <endian.h>

#include <cstring>

namespace ipattrib {
namespace {

// Dotted-quad IPv4 exactly as glibc's inet_pton(AF_INET) reads the
// NUL-terminated copy parse() used to hand it: four decimal octets of at
// most 255, no leading zeros, nothing else; a NUL ends the text as it did
// there. Hand-written because the copy and the libc call were most of the
// cost of reading a forwarding header's address on the packet path
// (ip_address_test checks it against inet_pton).
bool parse_v4(std::string_view text, std::uint8_t* out) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const char* p = text.data();
  const char* const end = p + text.size();
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    if (p == end || !is_digit(*p)) return false;
    unsigned value = static_cast<unsigned>(*p++ - '0');
    if (value == 0 && p != end && is_digit(*p)) return false;  // leading zero
    while (p != end && is_digit(*p)) {
      value = value * 10 + static_cast<unsigned>(*p++ - '0');
      if (value > 255) return false;
    }
    out[octet] = static_cast<std::uint8_t>(value);
  }
  return p == end || *p == '\0';
}

// Big-endian load, so that a prefix is the top bits of a word.
std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return be64toh(v);
}

// Are the top `bits` bits of x zero? (bits <= 0: trivially.)
bool top_bits_zero(std::uint64_t x, int bits) {
  if (bits <= 0) return true;
  if (bits >= 64) return x == 0;
  return (x >> (64 - bits)) == 0;
}

}  // namespace

IpAddress IpAddress::from_v4(std::uint32_t host_order) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
                             static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)};
  return from_v4_bytes(b);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= kMaxTextLength) return std::nullopt;
  std::uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (!parse_v4(text, raw)) return std::nullopt;
    return from_v4_bytes(raw);
  }
  char buf[kMaxTextLength];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
  return from_v6_bytes(raw);
}

std::size_t IpAddress::format(char* out) const {
  if (family_ == Family::kUnset) {
    out[0] = '\0';
    return 0;
  }
  const bool v4 = family_ == Family::kV4;
  if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? bytes_.data() + 12 : bytes_.data(), out, kMaxTextLength) == nullptr) {
    out[0] = '\0';
    return 0;
  }
  return std::strlen(out);
}

std::string IpAddress::to_string() const {
  char buf[kMaxTextLength];
  const std::size_t n = format(buf);
  return std::string(buf, n);
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int max_length = address->is_v4() ? 32 : 128;
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + (c - '0');
    }
    if (length > max_length) return std::nullopt;
  }
  // Clear host bits so that equal networks compare equal.
  std::array<std::uint8_t, 16> bytes = address->bytes();
  const int bit_length = address->is_v4() ? length + 96 : length;
  for (int bit = bit_length; bit < 128; ++bit) bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  Cidr cidr;
  cidr.network = address->is_v4() ? IpAddress::from_v4_bytes(bytes.data() + 12) : IpAddress::from_v6_bytes(bytes.data());
  cidr.prefix_length = static_cast<std::uint8_t>(length);
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (!address.is_set() || address.is_v4() != network.is_v4()) return false;
  // Two word compares instead of a memcmp of the whole bytes and a masked
  // last byte: trusted-proxy checks run several times per request.
  const int bit_length = network.is_v4() ? prefix_length + 96 : prefix_length;
  const std::uint8_t* a = address.bytes().data();
  const std::uint8_t* n = network.bytes().data();
  return top_bits_zero(load_be64(a) ^ load_be64(n), bit_length) &&
         top_bits_zero(load_be64(a + 8) ^ load_be64(n + 8), bit_length - 64);
}

std::string Cidr::to_string() const { return network.to_string() + "/" + std::to_string(prefix_length); }

bool CidrSet::contains(const IpAddress& address) const {
  for (const Cidr& c : cidrs_) {
    if (c.contains(address)) return true;
  }
  return false;
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
  std::uint64_t hi;
  std::uint64_t lo;
  std::memcpy(&hi, a.bytes().data(), 8);
  std::memcpy(&lo, a.bytes().data() + 8, 8);
  std::uint64_t h = hi * 0x9E3779B97F4A7C15ull ^ (lo + 0x632BE59BD9B4E019ull + (hi << 6) + (hi >> 2));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

}  // namespace ipattrib
