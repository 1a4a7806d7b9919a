// MetricsSnapshot: the agent's counters as GET /metrics serves them. The main
// (capture) thread, which already gathers every module's counters for the
// stats line, publishes a copy here at most once per kPublishIntervalUs; the
// HTTP threads only read the latest copy. The packet path and the workers are
// never touched from an HTTP thread, and the only lock is this object's,
// taken once per publish and once per scrape to swap or copy a pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipattrib/stats_line.h"

namespace ipattrib::agent {

// What a /healthz answer says.
struct MetricsHealth {
  bool ok = false;
  std::string status;         // "ok", "starting", "stalled", "no_progress"
  double snapshot_age_s = 0;  // since the main loop last published
};

class MetricsSnapshot {
 public:
  static constexpr std::int64_t kPublishIntervalUs = 1000000;
  // A main loop that has not published for this long is wedged (it serves
  // its timers at least every capture read timeout).
  static constexpr std::int64_t kStaleUs = 10000000;

  struct Identity {
    std::string agent_id;
    std::string gateway;
    std::string version;
    std::int64_t process_start_us = 0;  // wall clock
  };

  explicit MetricsSnapshot(Identity identity);

  // Main thread: whether a publish is due.
  bool due(std::int64_t now_us) const { return now_us - last_publish_us_ >= kPublishIntervalUs; }
  // Main thread: the counters of one stats line, when they were gathered,
  // and whether every worker is still turning.
  void publish(const StatsLine& counters, std::int64_t now_us, bool workers_progressing);

  // Any thread: the Prometheus text of the latest snapshot.
  std::string prometheus_text(std::int64_t now_us) const;
  // Any thread: whether the main loop publishes and the workers progress.
  MetricsHealth health(std::int64_t now_us) const;

  // How one stats line counter is exported: per-instance counters
  // ("pipeline.worker1.frames", "capture.dpdk_queue3_packets") become one
  // family with a label ("pipeline.worker_frames" {worker="1"}); the others
  // keep their name and no label.
  struct Series {
    std::string family;
    std::string label;  // "" when none
    std::string label_value;
  };
  static Series series_of(std::string_view counter_name);
  // Levels (gauges) among the stats line counters.
  static bool is_gauge(std::string_view family);

 private:
  struct Published {
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    std::int64_t at_us = 0;
    bool workers_progressing = true;
  };

  const Identity identity_;
  std::int64_t last_publish_us_ = 0;  // main thread only
  mutable std::mutex mutex_;
  std::shared_ptr<const Published> latest_;  // guarded by mutex_
};

}  // namespace ipattrib::agent
