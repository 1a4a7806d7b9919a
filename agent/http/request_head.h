// RequestHead: a parsed HTTP/1.x request head as views into the reassembled
// bytes. Valid only during the callback that delivers it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ipattrib::agent {

struct HttpHeader {
  std::string_view name;   // as sent (case preserved)
  std::string_view value;  // leading/trailing whitespace trimmed
};

struct RequestHead {
  std::string_view method;
  std::string_view target;   // exactly as on the request line
  std::string_view version;  // "HTTP/1.1"
  std::span<const HttpHeader> headers;

  // First header with this name (ASCII case-insensitive), or nullptr.
  const HttpHeader* find(std::string_view name) const;
};

bool equals_ignore_case(std::string_view a, std::string_view b);

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;  // most bytes: no case folding needed
    // Otherwise equal only as the two cases of one letter.
    const unsigned lower = x | 0x20u;
    if ((x ^ y) != 0x20u || lower < 'a' || lower > 'z') return false;
  }
  return true;
}

inline const HttpHeader* RequestHead::find(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (equals_ignore_case(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace ipattrib::agent
