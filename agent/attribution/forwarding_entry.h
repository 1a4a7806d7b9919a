// Parsers for the single entries of forwarding headers, kept apart from the
// trust walk so that each accepted spelling is tested on its own:
//   X-Forwarded-For / X-Real-IP: "192.0.2.1", "192.0.2.1:5678", "2001:db8::1",
//                                "[2001:db8::1]", "[2001:db8::1]:443"
//   Forwarded (RFC 7239):        'for=192.0.2.60;proto=http;by=203.0.113.43',
//                                'for="[2001:db8:cafe::17]:4711"'
// Anything else — "unknown", obfuscated identifiers ("_hidden"), IPv4 with
// leading zeros ("10.000.000.03", which inet_pton and most proxies reject and
// some resolvers read as octal), zone ids — is not an address.
#pragma once

#include <optional>
#include <string_view>

#include "ipattrib/ip_address.h"

namespace ipattrib::agent {

// One X-Forwarded-For / X-Real-IP list entry (already trimmed).
std::optional<IpAddress> parse_forwarded_for_entry(std::string_view entry);

// The address in the "for" parameter of one Forwarded element. nullopt when
// the element has no "for", has it twice, or it is not an address.
std::optional<IpAddress> parse_forwarded_element(std::string_view element);

// Calls `visit(entry)` for each non-empty, trimmed comma-separated entry of a
// header value, left to right. Commas inside quoted strings (Forwarded) do
// not split.
template <typename Visit>
void for_each_list_entry(std::string_view value, Visit&& visit);

// IPv4-mapped IPv6 (::ffff:a.b.c.d), as written by dual-stack proxies, is the
// IPv4 address: trusted-proxy CIDRs are written in IPv4.
IpAddress unmap_v4(const IpAddress& address);

inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename Visit>
void for_each_list_entry(std::string_view value, Visit&& visit) {
  auto emit = [&](std::size_t start, std::size_t end) {
    const std::string_view entry = trim_ows(value.substr(start, end - start));
    if (!entry.empty()) visit(entry);
  };
  std::size_t start = 0;
  if (value.find('"') == std::string_view::npos) {  // nothing quoted (X-Forwarded-For): split at every comma
    for (std::size_t comma; (comma = value.find(',', start)) != std::string_view::npos; start = comma + 1) {
      emit(start, comma);
    }
    emit(start, value.size());
    return;
  }
  bool quoted = false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != ',' && c != '"' && c != '\\') continue;  // most bytes: one test, not the quoting logic
    if (c == '\\') {
      if (quoted && i + 1 < value.size()) ++i;  // quoted-pair: the next byte is literal; a final backslash still ends the entry
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    emit(start, i);
    start = i + 1;
  }
  emit(start, value.size());
}

}  // namespace ipattrib::agent
