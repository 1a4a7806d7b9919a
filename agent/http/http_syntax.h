// Byte-level shapes of HTTP/1.x request syntax, shared by the head parser,
// the stream parser's resync scan and the ports = "any" direction guess.
// All functions bounds-check against the span they are given and never
// allocate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ipattrib::agent::http_syntax {

// Longer than any registered method ("UPDATEREDIRECTREF" is 17).
inline constexpr std::size_t kMaxMethodLength = 32;
inline constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

namespace detail {
constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<std::uint8_t>(c)] = true;
  return table;
}
inline constexpr std::array<bool, 256> kTokenTable = make_token_table();
}  // namespace detail

// RFC 9110 tchar. Inline: the head parser calls it for every byte of every
// method and header name (out of line it was ~1.2% of the packet path).
inline bool is_token_char(std::uint8_t c) { return detail::kTokenTable[c]; }
// Request-target bytes: visible ASCII or obs-text (raw UTF-8 seen in captures).
inline bool is_target_char(std::uint8_t c) { return c > 0x20 && c != 0x7f; }

enum class Shape : std::uint8_t { kYes, kNo, kNeedMore };

// "TOKEN SP" (the weakest evidence of a request start). kNo means these bytes
// can never begin a request, whatever follows.
Shape request_start_shape(std::span<const std::uint8_t> bytes);

// "METHOD SP target SP HTTP/1." with an upper-case method and a target of at
// most max_target bytes: strong evidence of a request line, used to find one
// in bytes of unknown meaning.
Shape request_line_shape(std::span<const std::uint8_t> bytes, std::size_t max_target);

// A method real clients send (used when a request line is cut by the segment).
bool is_known_method(std::string_view method);

// Offset just past the empty line that ends a head (a LF followed by CRLF or
// LF), looking at LFs from `from` on and accepting only ends <= limit.
// kNotFound if there is none yet.
std::size_t find_head_end(std::span<const std::uint8_t> bytes, std::size_t from, std::size_t limit);

// Offset just past the first LF at or after `from` within the first `limit`
// bytes, or kNotFound.
std::size_t find_line_end(std::span<const std::uint8_t> bytes, std::size_t from, std::size_t limit);

inline std::string_view as_text(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace ipattrib::agent::http_syntax
