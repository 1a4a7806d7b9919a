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
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
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
