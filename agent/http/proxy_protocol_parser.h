// ProxyProtocolParser: reads the HAProxy PROXY protocol header (v1 text or v2
// binary) that a load balancer writes before the client's bytes, so requests
// are attributed to the real client instead of the balancer. Used only on
// listeners configured for it: a receiver must never guess.
//
// v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n", at
// most 107 bytes, single spaces, addresses of the named family, ports
// 0-65535 without leading zeros. v2: signature, version 2, LOCAL or PROXY,
// AF_INET/AF_INET6 over STREAM give addresses; LOCAL, UNSPEC, AF_UNIX and
// non-STREAM transports are complete but carry none (present = false).
// TLVs are skipped.
//
// Decisions depend only on the bytes seen: a prefix of a header is always
// kNeedMore, never kInvalid, so byte-at-a-time delivery gives the same result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "agent/http/request_stream_state.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct ProxyParseResult {
  enum class Kind : std::uint8_t { kComplete, kNeedMore, kInvalid };
  Kind kind = Kind::kNeedMore;
  std::size_t consumed = 0;     // header length when kComplete
  ProxiedAddresses addresses;   // when kComplete
};

class ProxyProtocolParser {
 public:
  static constexpr std::size_t kMaxV1Length = 107;
  static constexpr std::size_t kV2HeaderLength = 16;

  // Counts proxy.v1 / proxy.v2 / proxy.invalid for final results.
  ProxyParseResult parse(std::span<const std::uint8_t> data);

  // Could `data` begin a PROXY header (prefix of "PROXY " or of the v2
  // signature)? Used to pick a flow's direction.
  static bool starts_like_proxy(std::span<const std::uint8_t> data);

  // Parses without counting.
  static ProxyParseResult parse_v1(std::span<const std::uint8_t> data);
  static ProxyParseResult parse_v2(std::span<const std::uint8_t> data);

  // proxy.v1, proxy.v2, proxy.invalid
  void report(StatsSink& sink) const;

 private:
  std::uint64_t v1_ = 0;
  std::uint64_t v2_ = 0;
  std::uint64_t invalid_ = 0;
};

}  // namespace ipattrib::agent
