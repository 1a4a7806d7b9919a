// What every AlertStore implementation checks the same way, whatever its
// database: which record_hits() calls it accepts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// record_hits() refuses, before touching the database: an agent id without
// a sequence or the reverse (both empty is a retroactive scan), a sequence
// beyond INT64_MAX, a negative window, an empty sink name, and a hit
// without measure id, account or ip.
Status validate_record_hits(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                            std::int64_t dedup_window_ms, const std::vector<std::string>& sinks);

// now_ms - dedup_window_ms, clamped at INT64_MIN: alerts created after it
// take a hit of their (measure, account, ip).
std::int64_t dedup_window_start(std::int64_t now_ms, std::int64_t dedup_window_ms);

}  // namespace ipattrib::collector
