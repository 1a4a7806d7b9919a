#include "agent/attribution/forwarding_entry.h"

#include <array>
#include <cstdint>

namespace ipattrib::agent {
namespace {

bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value <= 65535;
}

// RFC 7239 obfport: "_" followed by ALPHA / DIGIT / "." / "_" / "-".
bool is_obfuscated_port(std::string_view text) {
  if (text.size() < 2 || text.front() != '_') return false;
  for (char c : text.substr(1)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// node = address [":" port]; bracketed or bare IPv6.
std::optional<IpAddress> parse_node(std::string_view node, bool allow_obfuscated_port) {
  auto port_ok = [&](std::string_view port) {
    return is_port(port) || (allow_obfuscated_port && is_obfuscated_port(port));
  };
  std::optional<IpAddress> address;
  if (!node.empty() && node.front() == '[') {
    const std::size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view inside = node.substr(1, close - 1);
    const std::string_view after = node.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !port_ok(after.substr(1)))) return std::nullopt;
    if (inside.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]" is not a spelling anyone uses
    address = IpAddress::parse(inside);
  } else {
    const std::size_t first_colon = node.find(':');
    if (first_colon != std::string_view::npos && node.find(':', first_colon + 1) == std::string_view::npos) {
      if (!port_ok(node.substr(first_colon + 1))) return std::nullopt;  // "a.b.c.d:port"
      node = node.substr(0, first_colon);
      if (node.find('.') == std::string_view::npos) return std::nullopt;
    }
    address = IpAddress::parse(node);
  }
  if (!address) return std::nullopt;
  return unmap_v4(*address);
}

// RFC 9110 tchar, as a table: string_view::find over the symbols ran memchr
// for every byte of a Forwarded value.
constexpr std::array<bool, 256> make_token_chars() {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}

constexpr std::array<bool, 256> kTokenChar = make_token_chars();

bool is_token_char(char c) { return kTokenChar[static_cast<unsigned char>(c)]; }

bool equals_for(std::string_view name) {
  return name.size() == 3 && (name[0] | 0x20) == 'f' && (name[1] | 0x20) == 'o' && (name[2] | 0x20) == 'r';
}

// value = token / quoted-string. An address never needs a quoted-pair, so one
// makes the value "not an address" rather than something to unescape.
std::optional<std::string_view> unquote(std::string_view value) {
  if (value.empty()) return std::nullopt;
  if (value.front() != '"') {
    for (char c : value) {
      if (!is_token_char(c) && c != '[' && c != ']' && c != ':') return std::nullopt;  // lenient: unquoted "[v6]"
    }
    return value;
  }
  if (value.size() < 2 || value.back() != '"') return std::nullopt;
  value = value.substr(1, value.size() - 2);
  if (value.find_first_of("\\\"") != std::string_view::npos) return std::nullopt;
  return value;
}

}  // namespace

IpAddress unmap_v4(const IpAddress& address) {
  if (!address.is_v6()) return address;
  const auto& b = address.bytes();
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return address;
  }
  if (b[10] != 0xff || b[11] != 0xff) return address;
  return IpAddress::from_v4_bytes(address.v4_bytes());
}

std::optional<IpAddress> parse_forwarded_for_entry(std::string_view entry) { return parse_node(entry, false); }

std::optional<IpAddress> parse_forwarded_element(std::string_view element) {
  std::optional<std::string_view> for_value;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= element.size(); ++i) {
    if (i < element.size()) {
      const char c = element[i];
      if (quoted && c == '\\') {
        if (i + 1 < element.size()) ++i;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (quoted || c != ';') continue;
    }
    const std::string_view pair = trim_ows(element.substr(start, (i < element.size() ? i : element.size()) - start));
    start = i + 1;
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) return std::nullopt;  // malformed element: trust none of it
    if (!equals_for(trim_ows(pair.substr(0, equals)))) continue;
    if (for_value) return std::nullopt;  // "for" twice: ambiguous
    for_value = trim_ows(pair.substr(equals + 1));
  }
  if (quoted || !for_value) return std::nullopt;
  const auto node = unquote(*for_value);
  if (!node) return std::nullopt;
  return parse_node(*node, true);
}

}  // namespace ipattrib::agent
