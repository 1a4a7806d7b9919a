#include "collector/api/access_cursor_token.h"

#include <fmt/format.h>

#include <charconv>

namespace ipattrib::collector {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxTokenLength = 64;  // "-9223372036854775808.18446744073709551615" encodes to 55

std::string base64url(std::string_view in) {
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 63]);
    }
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 63]);
  return out;
}

bool unbase64url(std::string_view in, std::string& out) {
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : in) {
    const std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<char>((bits >> held) & 0xff));
    }
  }
  return held < 6;
}

}  // namespace

std::string encode_access_cursor(const AccessCursor& cursor) {
  return base64url(fmt::format("{}.{}", cursor.time_ms, cursor.skip_at_time));
}

bool decode_access_cursor(std::string_view token, AccessCursor& cursor) {
  if (token.empty() || token.size() > kMaxTokenLength) return false;
  std::string text;
  if (!unbase64url(token, text)) return false;
  const std::size_t dot = text.find('.');
  if (dot == std::string::npos) return false;
  AccessCursor parsed;
  const char* begin = text.data();
  const char* mid = begin + dot;
  const char* end = begin + text.size();
  auto [p1, e1] = std::from_chars(begin, mid, parsed.time_ms);
  if (e1 != std::errc() || p1 != mid || dot == 0) return false;
  auto [p2, e2] = std::from_chars(mid + 1, end, parsed.skip_at_time);
  if (e2 != std::errc() || p2 != end || mid + 1 == end) return false;
  cursor = parsed;
  return true;
}

}  // namespace ipattrib::collector
