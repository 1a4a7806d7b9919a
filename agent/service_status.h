// ServiceStatus: the one-line summary the agent shows in `systemctl status`
// (sd_notify STATUS=): packet rate since the last line, requests seen,
// records acknowledged by the collector, what waits in the spool and drops.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class ServiceStatus : public StatsSink {
 public:
  // Collects the counters of one report (source, pipeline, shipping).
  void counter(std::string_view name, std::uint64_t value) override;
  // The line for the counters reported since the last call; the packet rate
  // is over the time since then. Resets the collected counters.
  std::string take_line(std::int64_t now_us);

 private:
  struct Counters {
    std::uint64_t frames = 0, kernel_drops = 0, requests = 0, records = 0, acked_batches = 0, spooled_batches = 0;
  };
  Counters current_;
  std::uint64_t last_frames_ = 0;
  std::int64_t last_us_ = -1;
};

}  // namespace ipattrib::agent
