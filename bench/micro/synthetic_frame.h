// SyntheticFrame: one Ethernet / IPv4 / TCP frame built in memory for the
// micro benchmarks, whose addresses, ports, sequence number and payload can
// be rewritten in place between packets (no pcap file, no per-packet copy of
// the headers).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent::micro {

class SyntheticFrame {
 public:
  static constexpr std::size_t kHeaders = 14 + 20 + 20;

  explicit SyntheticFrame(std::size_t max_payload = 2048) : bytes_(kHeaders + max_payload) {
    std::uint8_t* p = bytes_.data();
    p[12] = 0x08;  // IPv4
    p[14] = 0x45;
    p[22] = 64;  // TTL
    p[23] = 6;   // TCP
    p[46] = 5 << 4;  // data offset: 5 words
    set_endpoints(0xC6120001, 40000, 0xC000020A, 80);
  }

  void set_endpoints(std::uint32_t src_ip, std::uint16_t src_port, std::uint32_t dst_ip, std::uint16_t dst_port) {
    store32(26, src_ip);
    store32(30, dst_ip);
    store16(34, src_port);
    store16(36, dst_port);
  }
  void set_tcp(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
    bytes_[47] = flags;
    store32(38, seq);
    store32(42, ack);
  }
  void set_payload(std::string_view payload) {
    std::memcpy(bytes_.data() + kHeaders, payload.data(), payload.size());
    payload_ = payload.size();
    store16(16, static_cast<std::uint16_t>(40 + payload_));  // IPv4 total length
  }

  RawFrame frame(std::int64_t ts_us) const {
    RawFrame f;
    f.ts_us = ts_us;
    f.data = std::span<const std::uint8_t>(bytes_.data(), kHeaders + payload_);
    f.wire_length = static_cast<std::uint32_t>(kHeaders + payload_);
    return f;
  }

 private:
  void store16(std::size_t at, std::uint16_t v) {
    bytes_[at] = static_cast<std::uint8_t>(v >> 8);
    bytes_[at + 1] = static_cast<std::uint8_t>(v);
  }
  void store32(std::size_t at, std::uint32_t v) {
    store16(at, static_cast<std::uint16_t>(v >> 16));
    store16(at + 2, static_cast<std::uint16_t>(v));
  }

  std::vector<std::uint8_t> bytes_;
  std::size_t payload_ = 0;
};

}  // namespace ipattrib::agent::micro
