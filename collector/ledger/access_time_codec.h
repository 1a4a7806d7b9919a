// Compact encoding of ascending access times (ms): unsigned LEB128 varints of
// the gap to the previous time. Accesses aggregated over a one-second window
// cost one or two bytes each instead of eight.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib::collector {

// Appends the deltas of `times` (ascending) starting from `previous_ms`.
void encode_access_times(std::int64_t previous_ms, std::span<const std::int64_t> times, std::string& out);

// Decodes `count` times following `previous_ms`; false if the bytes are
// truncated, overlong or hold more or fewer than `count` values.
bool decode_access_times(std::int64_t previous_ms, std::string_view bytes, std::uint64_t count,
                         std::vector<std::int64_t>& out);

}  // namespace ipattrib::collector
