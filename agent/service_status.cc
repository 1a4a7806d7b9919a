#include "agent/service_status.h"

#include <fmt/format.h>

namespace ipattrib::agent {

void ServiceStatus::counter(std::string_view name, std::uint64_t value) {
  if (name == "capture.frames")
    current_.frames = value;
  else if (name == "capture.kernel_drops")
    current_.kernel_drops = value;
  else if (name == "http.requests")
    current_.requests = value;
  else if (name == "aggregate.records")
    current_.records = value;
  else if (name == "ship.batches_acked")
    current_.acked_batches = value;
  else if (name == "spool.batches")
    current_.spooled_batches = value;
}

std::string ServiceStatus::take_line(std::int64_t now_us) {
  const Counters c = current_;
  const double seconds = last_us_ < 0 ? 0.0 : static_cast<double>(now_us - last_us_) / 1e6;
  const double rate = seconds > 0 ? static_cast<double>(c.frames - last_frames_) / seconds : 0.0;
  last_frames_ = c.frames;
  last_us_ = now_us;
  current_ = Counters{};
  return fmt::format("{:.0f} packets/s, {} requests, {} records, {} batches acked, {} spooled, {} kernel drops", rate,
                     c.requests, c.records, c.acked_batches, c.spooled_batches, c.kernel_drops);
}

}  // namespace ipattrib::agent
