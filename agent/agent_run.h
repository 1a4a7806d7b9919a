// AgentRun: the agent's main loop once everything is open — reads bursts
// from the PacketSource and runs them through the packet path (on this thread
// with one worker, through a WorkerPool with several; when the source splits
// by flow, e.g. DPDK RX queues with symmetric RSS, each worker reads its own
// part and this thread only serves outputs and timers), writes --events,
// serves the timers (stats line, sd_notify status and watchdog, geo reload
// checks, aggregation windows) and, on SIGTERM or end of input, drains every
// stage in order so nothing acknowledged is lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "agent/agent_shipping.h"
#include "agent/capture/packet_source.h"
#include "agent/config/agent_config.h"
#include "agent/metrics/metrics_snapshot.h"
#include "agent/output/event_json_writer.h"
#include "agent/pipeline/packet_pipeline.h"
#include "agent/pipeline/worker_pool.h"
#include "agent/reload/agent_reload.h"
#include "agent/service_status.h"
#include "common/systemd/service_notifier.h"

namespace ipattrib::agent {

// Set from signal handlers, read by the loop.
struct AgentSignals {
  std::atomic<bool> stop{false};         // SIGINT, SIGTERM
  std::atomic<bool> print_stats{false};  // SIGUSR1
  std::atomic<bool> reload{false};       // SIGHUP
};

class AgentRun final : private PoolOutputSink {
 public:
  // writer and shipping may be null (output off); reload null: SIGHUP only
  // reopens the geo databases.
  AgentRun(const AgentConfig& config, GeoResolver& geo, PacketSource& source, EventJsonWriter* writer,
           AgentShipping* shipping, ServiceNotifier& notifier, AgentSignals& signals, AgentReload* reload = nullptr);
  ~AgentRun() override;

  // Until end of input, a stop signal or a capture error (exit status 1).
  int run();

  // With a metrics endpoint: the loop publishes its counters there about
  // once a second (before run()).
  void set_metrics(MetricsSnapshot* metrics) { metrics_ = metrics; }

  // Whether this config runs the packet path on the capture thread (one
  // worker) rather than on worker threads.
  static bool runs_on_capture_thread(const AgentConfig& config);

 private:
  // Hands each event to every output that is on (--events, shipping).
  class EventOutputs;

  int serve_workers(std::int64_t& last_stats_us);
  void process(std::span<const RawFrame> frames);
  void service_timers(std::int64_t& last_stats_us);
  void finish();
  void report(StatsSink& sink) const;
  void log_stats() const;
  void publish_metrics(std::int64_t now);
  void update_service_status(std::int64_t now);
  void pin_capture_thread();
  void reload();

  void on_event_line(const std::string& json) override;
  void on_batch(RecordBatch&& batch) override;

  // How long SIGTERM / end of input waits for the collector to acknowledge
  // what is in flight; the rest stays in the spool for the next start.
  static constexpr std::chrono::milliseconds kShipDrainTimeout{10000};
  static constexpr std::int64_t kServiceStatusIntervalUs = 5000000;
  // A worker that has not turned its loop for this long is wedged: the
  // watchdog pings stop and systemd (WatchdogSec=30s) restarts the agent.
  static constexpr std::int64_t kWorkerStallUs = 10000000;
  // serve_workers() looks at the workers' outputs this often (longer while idle).
  static constexpr std::int64_t kMinServeSleepUs = 200;
  static constexpr std::int64_t kMaxServeSleepUs = 5000;

  const AgentConfig& config_;
  GeoResolver& geo_;
  PacketSource& source_;
  EventJsonWriter* writer_;
  AgentShipping* shipping_;
  ServiceNotifier& notifier_;
  AgentSignals& signals_;
  AgentReload* reload_;
  MetricsSnapshot* metrics_ = nullptr;
  int stats_interval_s_;  // a reload may change it
  const LinkType link_type_;
  ServiceStatus service_status_;
  std::int64_t last_status_us_ = 0;
  std::uint64_t loops_ = 0;
  std::int64_t last_geo_check_us_;
  bool stalled_logged_ = false;
  std::unique_ptr<EventOutputs> outputs_;
  std::unique_ptr<PacketPipeline> pipeline_;  // one worker: runs here
  std::unique_ptr<WorkerPool> pool_;          // several: runs on the pool's threads
  std::string pool_mode_;                     // how the workers get their frames, for the log
};

}  // namespace ipattrib::agent
