#include "agent/http/http_syntax.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace ipattrib::agent::http_syntax {
namespace {

bool is_method_shape_char(std::uint8_t c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// Compares bytes[pos..] with `literal` as far as both go.
Shape literal_shape(std::span<const std::uint8_t> bytes, std::size_t pos, std::string_view literal) {
  const std::size_t available = bytes.size() - pos;
  const std::size_t n = std::min(available, literal.size());
  if (n > 0 && std::memcmp(bytes.data() + pos, literal.data(), n) != 0) return Shape::kNo;
  return n == literal.size() ? Shape::kYes : Shape::kNeedMore;
}

}  // namespace

Shape request_start_shape(std::span<const std::uint8_t> bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == ' ') return i == 0 ? Shape::kNo : Shape::kYes;
    if (!is_token_char(bytes[i]) || i >= kMaxMethodLength) return Shape::kNo;
  }
  return Shape::kNeedMore;
}

Shape request_line_shape(std::span<const std::uint8_t> bytes, std::size_t max_target) {
  std::size_t pos = 0;
  while (pos < bytes.size() && is_method_shape_char(bytes[pos])) {
    if (++pos > kMaxMethodLength) return Shape::kNo;
  }
  if (pos == bytes.size()) return Shape::kNeedMore;
  if (pos == 0 || bytes[pos] != ' ') return Shape::kNo;
  const std::size_t target_start = ++pos;
  while (pos < bytes.size() && is_target_char(bytes[pos])) {
    if (++pos - target_start > max_target) return Shape::kNo;
  }
  if (pos == bytes.size()) return Shape::kNeedMore;
  if (pos == target_start || bytes[pos] != ' ') return Shape::kNo;
  return literal_shape(bytes, pos + 1, "HTTP/1.");
}

bool is_known_method(std::string_view method) {
  static constexpr std::string_view kMethods[] = {
      "GET",  "POST",    "PUT",     "DELETE", "HEAD",     "OPTIONS",   "PATCH", "CONNECT", "TRACE", "PROPFIND",
      "COPY", "MOVE",    "MKCOL",   "LOCK",   "UNLOCK",   "PROPPATCH", "REPORT", "SEARCH", "PURGE",
  };
  return std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
}

std::size_t find_line_end(std::span<const std::uint8_t> bytes, std::size_t from, std::size_t limit) {
  const std::size_t end = std::min(bytes.size(), limit);
  if (from >= end) return kNotFound;
  const void* lf = std::memchr(bytes.data() + from, '\n', end - from);
  if (lf == nullptr) return kNotFound;
  return static_cast<std::size_t>(static_cast<const std::uint8_t*>(lf) - bytes.data()) + 1;
}

std::size_t find_head_end(std::span<const std::uint8_t> bytes, std::size_t from, std::size_t limit) {
  const std::size_t end = std::min(bytes.size(), limit);
  std::size_t pos = from;
  while (true) {
    const std::size_t after_lf = find_line_end(bytes, pos, end);
    if (after_lf == kNotFound) return kNotFound;
    if (after_lf < end && bytes[after_lf] == '\n') return after_lf + 1;
    if (after_lf + 1 < end && bytes[after_lf] == '\r' && bytes[after_lf + 1] == '\n') return after_lf + 2;
    pos = after_lf;
  }
}

}  // namespace ipattrib::agent::http_syntax
