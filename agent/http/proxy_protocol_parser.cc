#include "agent/http/proxy_protocol_parser.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

namespace ipattrib::agent {
namespace {

using Kind = ProxyParseResult::Kind;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::uint8_t kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

ProxyParseResult result(Kind kind) {
  ProxyParseResult r;
  r.kind = kind;
  return r;
}

// kComplete when data starts with all of `prefix`, kNeedMore when with a
// part of it, else kInvalid.
Kind prefix_kind(std::span<const std::uint8_t> data, const void* prefix, std::size_t prefix_size) {
  const std::size_t n = std::min(data.size(), prefix_size);
  if (n > 0 && std::memcmp(data.data(), prefix, n) != 0) return Kind::kInvalid;
  return n == prefix_size ? Kind::kComplete : Kind::kNeedMore;
}

// Splits off the text up to the next single space (or the end).
std::string_view take_field(std::string_view& rest) {
  const std::size_t space = rest.find(' ');
  std::string_view field = rest.substr(0, space);
  rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
  return field;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<IpAddress> parse_address(std::string_view text, bool v6) {
  // IpAddress::parse also takes "[v6]"; PROXY v1 does not.
  if (text.empty() || text.front() == '[') return std::nullopt;
  if ((text.find(':') != std::string_view::npos) != v6) return std::nullopt;
  return IpAddress::parse(text);
}

// "TCP4 src dst sport dport" / "TCP6 ..." / "UNKNOWN[ anything]".
ProxyParseResult parse_v1_fields(std::string_view rest, std::size_t line_length) {
  ProxyParseResult r = result(Kind::kComplete);
  r.consumed = line_length;
  const std::string_view protocol = take_field(rest);
  if (protocol == "UNKNOWN") return r;
  if (protocol != "TCP4" && protocol != "TCP6") return result(Kind::kInvalid);
  const bool v6 = protocol == "TCP6";
  const auto source = parse_address(take_field(rest), v6);
  const auto destination = parse_address(take_field(rest), v6);
  const auto source_port = parse_port(take_field(rest));
  const std::string_view last = rest;
  const auto destination_port = parse_port(last);
  if (!source || !destination || !source_port || !destination_port) return result(Kind::kInvalid);
  r.addresses.present = true;
  r.addresses.source = *source;
  r.addresses.destination = *destination;
  r.addresses.source_port = *source_port;
  r.addresses.destination_port = *destination_port;
  return r;
}

std::uint16_t read_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

bool ProxyProtocolParser::starts_like_proxy(std::span<const std::uint8_t> data) {
  if (data.empty()) return false;
  return prefix_kind(data, kV1Prefix.data(), kV1Prefix.size()) != Kind::kInvalid ||
         prefix_kind(data, kV2Signature, sizeof(kV2Signature)) != Kind::kInvalid;
}

ProxyParseResult ProxyProtocolParser::parse_v1(std::span<const std::uint8_t> data) {
  const Kind prefix = prefix_kind(data, kV1Prefix.data(), kV1Prefix.size());
  if (prefix != Kind::kComplete) return result(prefix);
  const std::size_t window = std::min(data.size(), kMaxV1Length);
  const void* lf = std::memchr(data.data(), '\n', window);
  if (lf == nullptr) return result(data.size() >= kMaxV1Length ? Kind::kInvalid : Kind::kNeedMore);
  const auto lf_at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(lf) - data.data());
  if (data[lf_at - 1] != '\r') return result(Kind::kInvalid);
  const std::string_view line(reinterpret_cast<const char*>(data.data()), lf_at - 1);
  return parse_v1_fields(line.substr(kV1Prefix.size()), lf_at + 1);
}

ProxyParseResult ProxyProtocolParser::parse_v2(std::span<const std::uint8_t> data) {
  const Kind prefix = prefix_kind(data, kV2Signature, sizeof(kV2Signature));
  if (prefix != Kind::kComplete) return result(prefix);
  if (data.size() > 12) {
    const std::uint8_t version = data[12] >> 4;
    const std::uint8_t command = data[12] & 0x0F;
    if (version != 2 || command > 1) return result(Kind::kInvalid);
  }
  if (data.size() > 13 && ((data[13] >> 4) > 3 || (data[13] & 0x0F) > 2)) return result(Kind::kInvalid);
  if (data.size() < kV2HeaderLength) return result(Kind::kNeedMore);
  const std::size_t length = read_u16(&data[14]);
  if (data.size() < kV2HeaderLength + length) return result(Kind::kNeedMore);

  ProxyParseResult r = result(Kind::kComplete);
  r.consumed = kV2HeaderLength + length;
  const bool local = (data[12] & 0x0F) == 0;
  const std::uint8_t family = data[13] >> 4;
  const bool stream = (data[13] & 0x0F) == 1;
  const std::uint8_t* body = data.data() + kV2HeaderLength;
  if (family == 1) {  // AF_INET
    if (length < 12) return result(Kind::kInvalid);
    if (local || !stream) return r;
    r.addresses.source = IpAddress::from_v4_bytes(body);
    r.addresses.destination = IpAddress::from_v4_bytes(body + 4);
    r.addresses.source_port = read_u16(body + 8);
    r.addresses.destination_port = read_u16(body + 10);
    r.addresses.present = true;
  } else if (family == 2) {  // AF_INET6
    if (length < 36) return result(Kind::kInvalid);
    if (local || !stream) return r;
    r.addresses.source = IpAddress::from_v6_bytes(body);
    r.addresses.destination = IpAddress::from_v6_bytes(body + 16);
    r.addresses.source_port = read_u16(body + 32);
    r.addresses.destination_port = read_u16(body + 34);
    r.addresses.present = true;
  }
  return r;  // LOCAL, AF_UNSPEC, AF_UNIX: the socket addresses stand
}

ProxyParseResult ProxyProtocolParser::parse(std::span<const std::uint8_t> data) {
  if (data.empty()) return result(Kind::kNeedMore);
  const bool v2 = data[0] == kV2Signature[0];
  ProxyParseResult r = v2 ? parse_v2(data) : parse_v1(data);
  if (r.kind == Kind::kComplete) ++(v2 ? v2_ : v1_);
  if (r.kind == Kind::kInvalid) ++invalid_;
  return r;
}

void ProxyProtocolParser::report(StatsSink& sink) const {
  sink.counter("proxy.v1", v1_);
  sink.counter("proxy.v2", v2_);
  sink.counter("proxy.invalid", invalid_);
}

}  // namespace ipattrib::agent
