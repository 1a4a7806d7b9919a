#include "collector/ledger/access_time_codec.h"

namespace ipattrib::collector {

void encode_access_times(std::int64_t previous_ms, std::span<const std::int64_t> times, std::string& out) {
  for (std::int64_t t : times) {
    // Unsigned subtraction: callers guarantee t >= previous_ms, and the gap
    // of the extreme int64 values still fits in 64 bits.
    std::uint64_t gap = static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(previous_ms);
    while (gap >= 0x80) {
      out.push_back(static_cast<char>((gap & 0x7f) | 0x80));
      gap >>= 7;
    }
    out.push_back(static_cast<char>(gap));
    previous_ms = t;
  }
}

bool decode_access_times(std::int64_t previous_ms, std::string_view bytes, std::uint64_t count,
                         std::vector<std::int64_t>& out) {
  std::size_t pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t gap = 0;
    int shift = 0;
    while (true) {
      if (pos >= bytes.size() || shift > 63) return false;
      const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
      gap |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
      shift += 7;
    }
    previous_ms = static_cast<std::int64_t>(static_cast<std::uint64_t>(previous_ms) + gap);
    out.push_back(previous_ms);
  }
  return pos == bytes.size();
}

}  // namespace ipattrib::collector
