#include "agent/agent_run.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "agent/pipeline/cpu_budget.h"
#include "ipattrib/stats_line.h"

namespace ipattrib::agent {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class AgentRun::EventOutputs final : public AccessEventSink {
 public:
  void add(AccessEventSink* sink) { sinks_[count_++] = sink; }
  void on_access(const AccessEvent& event) override {
    for (std::size_t i = 0; i < count_; ++i) sinks_[i]->on_access(event);
  }

 private:
  std::array<AccessEventSink*, 2> sinks_{};
  std::size_t count_ = 0;
};

bool AgentRun::runs_on_capture_thread(const AgentConfig& config) { return config.pipeline.workers == 1; }

AgentRun::AgentRun(const AgentConfig& config, GeoResolver& geo, PacketSource& source, EventJsonWriter* writer,
                   AgentShipping* shipping, ServiceNotifier& notifier, AgentSignals& signals, AgentReload* reload)
    : config_(config),
      geo_(geo),
      source_(source),
      writer_(writer),
      shipping_(shipping),
      notifier_(notifier),
      signals_(signals),
      reload_(reload),
      stats_interval_s_(config.stats_interval_s),
      link_type_(source.link_type()),
      last_geo_check_us_(now_us()),
      outputs_(std::make_unique<EventOutputs>()) {
  if (runs_on_capture_thread(config)) {
    if (writer != nullptr) outputs_->add(writer);
    if (shipping != nullptr) outputs_->add(shipping);
    pipeline_ = std::make_unique<PacketPipeline>(config, geo, *outputs_);
    return;
  }
  WorkerOutputs outputs;
  outputs.event_lines = writer != nullptr;
  if (shipping != nullptr) outputs.aggregation = AgentShipping::aggregator_options(config);
  // Offline replay has no capture to fall behind: wait for ring room.
  const bool wait_when_full = source.replays_a_file();
  PoolOutputSink& sink = *this;
  // Each worker reads its own part of the capture when the source can split
  // by flow (DPDK RX queues with symmetric RSS); else this thread reads and
  // spreads the frames over the workers' rings by a software flow hash.
  std::string why;
  std::vector<std::unique_ptr<PacketSource>> parts =
      source.split_by_flow(static_cast<std::size_t>(config.pipeline.workers), why);
  pool_mode_ = parts.empty() ? "fed by the capture thread through " + std::to_string(config.pipeline.queue_mb) +
                                   " MiB rings, software flow hash (" + why + ")"
                             : "each reading its own RX queue(s) directly (symmetric RSS)";
  pool_ = std::make_unique<WorkerPool>(config, geo, link_type_, outputs, wait_when_full, sink, std::move(parts));
}

AgentRun::~AgentRun() = default;

void AgentRun::pin_capture_thread() {
  const int cpu = config_.pipeline.capture_cpu;
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0) {
    spdlog::warn("pipeline: cannot pin the capture thread to CPU {}: {}", cpu, std::strerror(rc));
  }
}

int AgentRun::run() {
  std::vector<RawFrame> burst(static_cast<std::size_t>(config_.pipeline.burst));
  std::int64_t last_stats_us = now_us();
  pin_capture_thread();
  if (pool_ != nullptr) {
    for (const std::string& error : pool_->start()) spdlog::warn("pipeline: cannot pin {}", error);
    spdlog::info("pipeline: {} workers, {}", config_.pipeline.workers, pool_mode_);
    const std::string crowded =
        cpu_oversubscription_warning(config_.pipeline.workers, !pool_->workers_read_sources(), cpus_available());
    if (!crowded.empty()) spdlog::warn("pipeline: {}", crowded);
  }
  // Live capture is open, privileges dropped, shipping started: ready.
  if (!source_.replays_a_file()) notifier_.ready();
  update_service_status(now_us());
  if (pool_ != nullptr && pool_->workers_read_sources()) return serve_workers(last_stats_us);
  while (!signals_.stop.load(std::memory_order_relaxed)) {
    ReadStatus status = ReadStatus::kFrames;
    const std::size_t n = source_.read_burst(burst, status);
    process({burst.data(), n});
    if (status == ReadStatus::kEnd) break;
    if (status == ReadStatus::kError) {
      spdlog::error("capture failed: {}", source_.error());
      finish();
      return 1;
    }
    if (n == 0 || ++loops_ % 64 == 0) service_timers(last_stats_us);
  }
  finish();
  return 0;
}

// The workers read their own sources: this thread only hands their outputs
// on, serves the timers and waits for a stop signal or the end of input.
int AgentRun::serve_workers(std::int64_t& last_stats_us) {
  std::int64_t idle_sleep_us = kMinServeSleepUs;
  while (!signals_.stop.load(std::memory_order_relaxed)) {
    const std::size_t handed = pool_->drain_outputs();
    std::string error;
    if (pool_->sources_ended(error)) {
      if (error.empty()) break;
      spdlog::error("capture failed: {}", error);
      finish();
      return 1;
    }
    service_timers(last_stats_us);
    // Outputs waiting: come back soon (a worker waits when its queue is full).
    idle_sleep_us = handed > 0 ? kMinServeSleepUs : std::min(kMaxServeSleepUs, idle_sleep_us * 2);
    std::this_thread::sleep_for(std::chrono::microseconds(idle_sleep_us));
  }
  finish();
  return 0;
}

void AgentRun::process(std::span<const RawFrame> frames) {
  if (pipeline_ != nullptr) {
    pipeline_->process_burst(link_type_, frames);
    return;
  }
  pool_->dispatch(frames);
  pool_->drain_outputs();
}

void AgentRun::on_event_line(const std::string& json) { writer_->write_line(json); }

void AgentRun::on_batch(RecordBatch&& batch) { shipping_->offer(std::move(batch)); }

// Served at least once per capture read timeout; a capture, pipeline or
// worker that wedges stops the watchdog pings and systemd restarts the agent.
void AgentRun::service_timers(std::int64_t& last_stats_us) {
  const std::int64_t now = now_us();
  if (pool_ == nullptr || pool_->workers_progressing(now, kWorkerStallUs)) {
    notifier_.watchdog_ping();
    stalled_logged_ = false;
  } else if (!stalled_logged_) {
    spdlog::error("pipeline: a worker has made no progress for {} s; watchdog pings stopped",
                  kWorkerStallUs / 1000000);
    stalled_logged_ = true;
  }
  // Live capture: events reach their reader within a read timeout.
  if (writer_ != nullptr) writer_->flush();
  if (signals_.reload.exchange(false)) reload();
  if (notifier_.enabled() && now - last_status_us_ >= kServiceStatusIntervalUs) update_service_status(now);
  // With workers, each worker closes its own aggregation windows.
  if (shipping_ != nullptr) shipping_->flush_due(now / 1000);
  const std::int64_t geo_interval_us = std::int64_t{config_.geo.reload_check_interval_s} * 1000000;
  if (geo_interval_us > 0 && now - last_geo_check_us_ >= geo_interval_us) {
    geo_.check_for_changes();
    last_geo_check_us_ = now;
  }
  const bool interval_due =
      stats_interval_s_ > 0 && now - last_stats_us >= std::int64_t{stats_interval_s_} * 1000000;
  if (signals_.print_stats.exchange(false) || interval_due) {
    log_stats();
    last_stats_us = now;
  }
  if (metrics_ != nullptr && metrics_->due(now)) publish_metrics(now);
}

// SIGHUP: the configuration file again (AgentReload says what applies live),
// or only the geo databases when the agent runs without one.
void AgentRun::reload() {
  notifier_.reloading();
  if (reload_ == nullptr) {
    spdlog::info("SIGHUP: reloading geo databases");
    geo_.reload();
  } else if (Status s = reload_->reload(geo_, shipping_ != nullptr ? &shipping_->shipper() : nullptr,
                                        stats_interval_s_);
             !s) {
    spdlog::error("reload: {}", s.message());
  } else {
    spdlog::info("reload: configuration reloaded");
  }
  notifier_.ready();
}

// Order matters: the workers empty their rings and finish their flows and
// windows first, their last outputs are written and offered, then the
// shipper drains to the collector.
void AgentRun::finish() {
  if (signals_.stop.load()) {
    notifier_.stopping();
    spdlog::info("stopping: flushing the aggregation window and draining the shipper");
  }
  if (pipeline_ != nullptr) pipeline_->finish();
  if (pool_ != nullptr) pool_->finish();
  if (writer_ != nullptr) writer_->flush();
  if (shipping_ != nullptr) shipping_->finish(kShipDrainTimeout);
  log_stats();
}

void AgentRun::report(StatsSink& sink) const {
  // Split among the workers, the capture's counters come from their parts.
  if (pool_ == nullptr || !pool_->workers_read_sources()) source_.report(sink);
  if (pipeline_ != nullptr) pipeline_->report(sink);
  if (pool_ != nullptr) pool_->report(sink);
  geo_.report_stats(sink);
  if (writer_ != nullptr) writer_->report(sink);
  if (shipping_ != nullptr) shipping_->report(sink);
  if (reload_ != nullptr) reload_->report(sink);
}

void AgentRun::log_stats() const {
  StatsLine line;
  report(line);
  spdlog::info("stats: {}", line.to_string());
}

// The same counters as the stats line, for GET /metrics.
void AgentRun::publish_metrics(std::int64_t now) {
  StatsLine line;
  report(line);
  metrics_->publish(line, now, !stalled_logged_);
}

void AgentRun::update_service_status(std::int64_t now) {
  if (!notifier_.enabled()) return;
  report(service_status_);
  notifier_.status(service_status_.take_line(now));
  last_status_us_ = now;
}

}  // namespace ipattrib::agent
