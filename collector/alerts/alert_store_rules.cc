#include "collector/alerts/alert_store_rules.h"

#include <cstdint>

namespace ipattrib::collector {

Status validate_record_hits(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                            std::int64_t dedup_window_ms, const std::vector<std::string>& sinks) {
  if (agent_id.empty() != (sequence == 0)) {
    return Status::error("record_hits: agent id and sequence must both be set, or both empty (retroactive scan)");
  }
  if (sequence > static_cast<std::uint64_t>(INT64_MAX)) return Status::error("record_hits: sequence out of range");
  if (dedup_window_ms < 0) return Status::error("record_hits: negative dedup window");
  for (const std::string& sink : sinks) {
    if (sink.empty()) return Status::error("record_hits: empty sink name");
  }
  for (const AlertHit& hit : hits) {
    if (hit.measure_id.empty() || hit.account.empty() || !hit.ip.is_set()) {
      return Status::error("record_hits: a hit needs a measure id, an account and an ip");
    }
  }
  return Status::ok();
}

std::int64_t dedup_window_start(std::int64_t now_ms, std::int64_t dedup_window_ms) {
  return now_ms < INT64_MIN + dedup_window_ms ? INT64_MIN : now_ms - dedup_window_ms;
}

}  // namespace ipattrib::collector
