// IpAddress and Cidr: the value types every module uses for IPv4/IPv6
// addresses. IPv4 is stored as an IPv4-mapped IPv6 address (::ffff:a.b.c.d) so
// one 16-byte comparison serves both families; is_v4() remembers the family.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib {

class IpAddress {
 public:
  // Longest text form: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" + NUL.
  static constexpr std::size_t kMaxTextLength = 46;

  IpAddress() = default;  // unset: neither v4 nor v6
  // Inline: the decoder builds two per packet.
  static IpAddress from_v4_bytes(const std::uint8_t* four_bytes) {
    IpAddress a;
    a.family_ = Family::kV4;
    a.bytes_[10] = 0xff;  // ::ffff:a.b.c.d
    a.bytes_[11] = 0xff;
    std::memcpy(a.bytes_.data() + 12, four_bytes, 4);
    return a;
  }
  static IpAddress from_v4(std::uint32_t host_order);
  static IpAddress from_v6_bytes(const std::uint8_t* sixteen_bytes) {
    IpAddress a;
    a.family_ = Family::kV6;
    std::memcpy(a.bytes_.data(), sixteen_bytes, 16);
    return a;
  }
  // Accepts dotted IPv4, textual IPv6 (also "[v6]"), no port, no zone.
  // Does not allocate.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_set() const { return family_ != Family::kUnset; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // 16 bytes, network order; v4 as ::ffff:a.b.c.d.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  const std::uint8_t* v4_bytes() const { return bytes_.data() + 12; }

  // Writes the canonical text (RFC 5952 for v6) into out, returns its length.
  // out must hold kMaxTextLength bytes. Does not allocate.
  std::size_t format(char* out) const;
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  enum class Family : std::uint8_t { kUnset, kV4, kV6 };
  Family family_ = Family::kUnset;
  std::array<std::uint8_t, 16> bytes_{};
};

// A network: address plus prefix length (0-32 for v4, 0-128 for v6).
struct Cidr {
  IpAddress network;  // host bits cleared
  std::uint8_t prefix_length = 0;

  // "10.0.0.0/8", "2001:db8::/32"; a bare address is a host route (/32, /128).
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
  std::string to_string() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// A small list of networks with a membership test. Linear scan: trusted-proxy
// lists are a handful of entries.
class CidrSet {
 public:
  void add(const Cidr& cidr) { cidrs_.push_back(cidr); }
  bool contains(const IpAddress& address) const;
  bool empty() const { return cidrs_.empty(); }
  const std::vector<Cidr>& cidrs() const { return cidrs_; }

 private:
  std::vector<Cidr> cidrs_;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept;
};

}  // namespace ipattrib
