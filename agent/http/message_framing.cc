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

// Adds one Content-Length header's value to what earlier ones said: every
// header, and every element of a "5, 5" list, must name the same value
// (RFC 9110 §8.6); false otherwise.
bool merge_content_length(std::string_view list, std::optional<std::uint64_t>& length) {
  while (true) {
    const std::size_t comma = list.find(',');
    const auto value = parse_decimal(trim(list.substr(0, comma)));
    if (!value || (length && *length != *value)) return false;
    length = value;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// The final transfer coding of a Transfer-Encoding value.
std::string_view final_transfer_coding(std::string_view value) {
  const std::size_t comma = value.rfind(',');
  return trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

}  // namespace

BodyFraming request_body_framing(const RequestHead& head) {
  BodyFraming framing;
  if (head.method == "CONNECT") {
    framing.kind = BodyFraming::Kind::kTunnel;
    return framing;
  }
  // One pass over the headers (this runs for every request). Only three
  // names matter and their lengths differ, so most headers are passed over
  // on their length alone.
  const HttpHeader* transfer_encoding = nullptr;  // the last one
  bool has_length = false;
  bool length_valid = true;  // false from the first bad or conflicting value on
  std::optional<std::uint64_t> length;
  for (const HttpHeader& h : head.headers) {
    switch (h.name.size()) {
      case std::string_view("Upgrade").size():
        if (equals_ignore_case(h.name, "Upgrade")) framing.upgrade = true;
        break;
      case std::string_view("Content-Length").size():
        if (equals_ignore_case(h.name, "Content-Length")) {
          has_length = true;
          length_valid = length_valid && merge_content_length(h.value, length);
        }
        break;
      case std::string_view("Transfer-Encoding").size():
        if (equals_ignore_case(h.name, "Transfer-Encoding")) transfer_encoding = &h;
        break;
      default:
        break;
    }
  }
  if (transfer_encoding != nullptr) {
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3); a request
    // whose final coding is not chunked has no determinable length.
    const bool chunked = equals_ignore_case(final_transfer_coding(transfer_encoding->value), "chunked");
    framing.kind = chunked ? BodyFraming::Kind::kChunked : BodyFraming::Kind::kInvalid;
    return framing;
  }
  if (!has_length) return framing;
  if (!length_valid) {
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
