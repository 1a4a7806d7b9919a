#include "agent/http/message_framing.h"
#include "ipattrib/hex_digit.h"

namespace ipattrib::agent {
namespace {

constexpr std::size_t kMaxLengthDigits = 18;
constexpr std::size_t kMaxChunkSizeDigits = 15;  // < 2^60: no overflow when adding

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > kMaxLengthDigits) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Every Content-Length header, and every element of a "5, 5" list, must name
// the same value (RFC 9110 §8.6); nullopt otherwise.
std::optional<std::uint64_t> content_length(const RequestHead& head, bool& seen) {
  std::optional<std::uint64_t> length;
  for (const HttpHeader& h : head.headers) {
    if (!equals_ignore_case(h.name, "Content-Length")) continue;
    seen = true;
    std::string_view list = h.value;
    while (true) {
      const std::size_t comma = list.find(',');
      const auto value = parse_decimal(trim(list.substr(0, comma)));
      if (!value || (length && *length != *value)) return std::nullopt;
      length = value;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return length;
}

// The final transfer coding of the last Transfer-Encoding header.
std::string_view final_transfer_coding(const RequestHead& head, bool& seen) {
  std::string_view last;
  for (const HttpHeader& h : head.headers) {
    if (!equals_ignore_case(h.name, "Transfer-Encoding")) continue;
    seen = true;
    last = h.value;
  }
  const std::size_t comma = last.rfind(',');
  return trim(comma == std::string_view::npos ? last : last.substr(comma + 1));
}

}  // namespace

BodyFraming request_body_framing(const RequestHead& head) {
  BodyFraming framing;
  if (head.method == "CONNECT") {
    framing.kind = BodyFraming::Kind::kTunnel;
    return framing;
  }
  framing.upgrade = head.find("Upgrade") != nullptr;
  bool has_transfer_encoding = false;
  const std::string_view coding = final_transfer_coding(head, has_transfer_encoding);
  if (has_transfer_encoding) {
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3); a request
    // whose final coding is not chunked has no determinable length.
    framing.kind = equals_ignore_case(coding, "chunked") ? BodyFraming::Kind::kChunked : BodyFraming::Kind::kInvalid;
    return framing;
  }
  bool has_length = false;
  const auto length = content_length(head, has_length);
  if (!has_length) return framing;
  if (!length) {
    framing.kind = BodyFraming::Kind::kInvalid;
  } else if (*length > 0) {
    framing.kind = BodyFraming::Kind::kLength;
    framing.length = *length;
  }
  return framing;
}

std::optional<std::uint64_t> parse_chunk_size_line(std::string_view line) {
  std::uint64_t size = 0;
  std::size_t digits = 0;
  while (digits < line.size() && hex_digit_value(line[digits]) >= 0) {
    if (digits == kMaxChunkSizeDigits) return std::nullopt;
    size = size * 16 + static_cast<std::uint64_t>(hex_digit_value(line[digits]));
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  const std::string_view rest = trim(line.substr(digits));
  if (!rest.empty() && rest.front() != ';') return std::nullopt;
  for (char c : rest) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\t') || b == 0x7f) return std::nullopt;
  }
  return size;
}

}  // namespace ipattrib::agent
