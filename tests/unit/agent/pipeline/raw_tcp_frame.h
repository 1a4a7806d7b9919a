// Hand-built raw IP frames (LinkType::kRawIp) carrying one TCP segment, for
// the pipeline's hash and worker tests.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ipattrib/ip_address.h"

namespace ipattrib::agent::testing {

inline void put16(std::vector<std::uint8_t>& f, std::uint32_t v) {
  f.push_back(static_cast<std::uint8_t>(v >> 8));
  f.push_back(static_cast<std::uint8_t>(v));
}

inline void put32(std::vector<std::uint8_t>& f, std::uint32_t v) {
  put16(f, v >> 16);
  put16(f, v & 0xFFFF);
}

inline std::vector<std::uint8_t> raw_tcp_frame(const IpAddress& src, std::uint16_t src_port, const IpAddress& dst,
                                               std::uint16_t dst_port, std::uint32_t seq = 1,
                                               std::uint8_t flags = 0x10, std::string_view payload = {}) {
  std::vector<std::uint8_t> tcp;
  put16(tcp, src_port);
  put16(tcp, dst_port);
  put32(tcp, seq);
  put32(tcp, 0);  // ack
  tcp.push_back(5 << 4);
  tcp.push_back(flags);
  put16(tcp, 65535);
  put32(tcp, 0);  // checksum, urgent pointer
  tcp.insert(tcp.end(), payload.begin(), payload.end());
  std::vector<std::uint8_t> f;
  if (src.is_v4()) {
    f = {0x45, 0};
    put16(f, static_cast<std::uint32_t>(20 + tcp.size()));
    put16(f, 1);
    put16(f, 0x4000);
    f.push_back(64);
    f.push_back(6);
    put16(f, 0);
    f.insert(f.end(), src.v4_bytes(), src.v4_bytes() + 4);
    f.insert(f.end(), dst.v4_bytes(), dst.v4_bytes() + 4);
  } else {
    f = {0x60, 0, 0, 0};
    put16(f, static_cast<std::uint32_t>(tcp.size()));
    f.push_back(6);
    f.push_back(64);
    f.insert(f.end(), src.bytes().begin(), src.bytes().end());
    f.insert(f.end(), dst.bytes().begin(), dst.bytes().end());
  }
  f.insert(f.end(), tcp.begin(), tcp.end());
  return f;
}

}  // namespace ipattrib::agent::testing
