// PacketView: a decoded TCP segment, zero-copy over the captured frame. Valid
// only while the frame it points into is (until the PacketSource's next read).
#pragma once

#include <cstdint>
#include <span>

#include "ipattrib/ip_address.h"

namespace ipattrib::agent {

enum TcpFlag : std::uint8_t {
  kTcpFin = 0x01,
  kTcpSyn = 0x02,
  kTcpRst = 0x04,
  kTcpPsh = 0x08,
  kTcpAck = 0x10,
};

struct PacketView {
  std::int64_t ts_us = 0;  // capture time, microseconds since the Unix epoch
  IpAddress src;
  IpAddress dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t tcp_flags = 0;  // TcpFlag bits
  std::span<const std::uint8_t> payload;  // TCP payload (may be empty)
};

}  // namespace ipattrib::agent
