// Hand-built frames for decoder tests: each function appends one protocol
// header in network byte order, so a test reads top-down like the frame.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent::test {

using Frame = std::vector<std::uint8_t>;

inline void put16(Frame& f, std::uint16_t v) {
  f.push_back(static_cast<std::uint8_t>(v >> 8));
  f.push_back(static_cast<std::uint8_t>(v));
}

inline void put32(Frame& f, std::uint32_t v) {
  put16(f, static_cast<std::uint16_t>(v >> 16));
  put16(f, static_cast<std::uint16_t>(v));
}

inline void put_bytes(Frame& f, std::initializer_list<std::uint8_t> bytes) { f.insert(f.end(), bytes); }

inline void put_text(Frame& f, std::string_view text) { f.insert(f.end(), text.begin(), text.end()); }

inline void ethernet(Frame& f, std::uint16_t ethertype) {
  put_bytes(f, {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
  put16(f, ethertype);
}

inline void vlan_tag(Frame& f, std::uint16_t vlan_id, std::uint16_t inner_type) {
  put16(f, vlan_id);
  put16(f, inner_type);
}

// 20-byte TCP header (plus `options`, a multiple of 4) and payload.
inline Frame tcp_segment(std::uint16_t src_port, std::uint16_t dst_port, std::string_view payload,
                         std::uint8_t flags = 0x18, std::initializer_list<std::uint8_t> options = {}) {
  Frame f;
  put16(f, src_port);
  put16(f, dst_port);
  put32(f, 1000);  // seq
  put32(f, 2000);  // ack
  f.push_back(static_cast<std::uint8_t>(((20 + options.size()) / 4) << 4));
  f.push_back(flags);
  put16(f, 65535);  // window
  put32(f, 0);      // checksum, urgent pointer
  put_bytes(f, options);
  put_text(f, payload);
  return f;
}

// IPv4 header from 10.0.0.1 to 10.0.0.2 with `options` (a multiple of 4)
// followed by `l4`.
inline void ipv4(Frame& f, const Frame& l4, std::uint8_t protocol = 6, std::uint16_t flags_fragment = 0x4000,
                 std::initializer_list<std::uint8_t> options = {}) {
  const auto header_length = static_cast<std::uint8_t>(20 + options.size());
  f.push_back(static_cast<std::uint8_t>(0x40 | header_length / 4));
  f.push_back(0);
  put16(f, static_cast<std::uint16_t>(header_length + l4.size()));
  put16(f, 0x1234);  // id
  put16(f, flags_fragment);
  f.push_back(64);
  f.push_back(protocol);
  put16(f, 0);  // checksum
  put_bytes(f, {10, 0, 0, 1, 10, 0, 0, 2});
  put_bytes(f, options);
  f.insert(f.end(), l4.begin(), l4.end());
}

// IPv6 header 2001:db8::1 -> 2001:db8::2; `rest` holds any extension
// headers followed by the upper-layer bytes.
inline void ipv6(Frame& f, std::uint8_t next_header, const Frame& rest) {
  put32(f, 0x60000000);
  put16(f, static_cast<std::uint16_t>(rest.size()));
  f.push_back(next_header);
  f.push_back(64);
  put_bytes(f, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  put_bytes(f, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  f.insert(f.end(), rest.begin(), rest.end());
}

// An 8-byte option-carrying extension header (hop-by-hop, routing, dest-opts)
// of (1 + extra_units) * 8 bytes.
inline void ipv6_options_header(Frame& f, std::uint8_t next_header, std::uint8_t extra_units = 0) {
  f.push_back(next_header);
  f.push_back(extra_units);
  f.push_back(1);  // PadN
  f.push_back(static_cast<std::uint8_t>(4 + extra_units * 8));
  f.insert(f.end(), 4 + std::size_t{extra_units} * 8, 0);
}

inline void ipv6_fragment_header(Frame& f, std::uint8_t next_header, std::uint16_t offset_units, bool more) {
  f.push_back(next_header);
  f.push_back(0);
  put16(f, static_cast<std::uint16_t>(offset_units << 3 | (more ? 1 : 0)));
  put32(f, 0xabcd);
}

inline RawFrame raw(const Frame& f, std::int64_t ts_us = 1700000000123456) {
  RawFrame r;
  r.ts_us = ts_us;
  r.data = std::span<const std::uint8_t>(f.data(), f.size());
  r.wire_length = static_cast<std::uint32_t>(f.size());
  return r;
}

}  // namespace ipattrib::agent::test
