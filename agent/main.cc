// ipattrib-agent: captures HTTP request heads (live or from a capture file),
// attributes each to an account and a client IP, geo-resolves it, and writes
// the events. Exit status: 0 ok, 1 bad configuration or capture error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_options.h"
#include "agent/agent_shipping.h"
#include "agent/capture/packet_source_factory.h"
#include "agent/config/agent_config.h"
#include "agent/output/event_json_writer.h"
#include "ipattrib/stats_line.h"
#include "agent/pipeline/packet_pipeline.h"
#include "agent/service_status.h"
#include "common/privilege/privilege_drop.h"
#include "common/systemd/service_notifier.h"

namespace ipattrib::agent {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_print_stats{false};
std::atomic<bool> g_reload{false};
std::atomic<PacketSource*> g_source{nullptr};

extern "C" void on_signal(int signal_number) {
  switch (signal_number) {
    case SIGINT:
    case SIGTERM:
      g_stop.store(true);
      if (PacketSource* source = g_source.load()) source->break_loop();
      break;
    case SIGUSR1: g_print_stats.store(true); break;
    case SIGHUP: g_reload.store(true); break;
    default: break;
  }
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) sigaction(s, &action, nullptr);
}

class AgentRun {
 public:
  AgentRun(const AgentConfig& config, GeoResolver& geo, PacketSource& source, AccessEventSink& out,
           EventJsonWriter* writer, AgentShipping* shipping, ServiceNotifier& notifier)
      : config_(config),
        geo_(geo),
        source_(source),
        writer_(writer),
        shipping_(shipping),
        notifier_(notifier),
        pipeline_(config, geo, out) {}

  int run() {
    std::array<RawFrame, 64> burst;
    std::int64_t last_stats_us = now_us();
    const LinkType link_type = source_.link_type();
    // Live capture is open, privileges dropped, shipping started: ready.
    if (config_.capture.read_file.empty()) notifier_.ready();
    update_service_status(now_us());
    while (!g_stop.load(std::memory_order_relaxed)) {
      ReadStatus status = ReadStatus::kFrames;
      const std::size_t n = source_.read_burst(burst, status);
      for (std::size_t i = 0; i < n; ++i) pipeline_.process(link_type, burst[i]);
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

 private:
  static std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // Served at least once per capture read timeout; a capture or pipeline
  // that wedges stops the watchdog pings and systemd restarts the agent.
  void service_timers(std::int64_t& last_stats_us) {
    notifier_.watchdog_ping();
    // Live capture: events reach their reader within a read timeout.
    if (writer_ != nullptr) writer_->flush();
    if (g_reload.exchange(false)) {
      notifier_.reloading();
      spdlog::info("SIGHUP: reloading geo databases");
      geo_.reload();
      notifier_.ready();
    }
    const std::int64_t now = now_us();
    if (notifier_.enabled() && now - last_status_us_ >= kServiceStatusIntervalUs) update_service_status(now);
    if (shipping_ != nullptr) shipping_->flush_due(now / 1000);
    const std::int64_t geo_interval_us = std::int64_t{config_.geo.reload_check_interval_s} * 1000000;
    if (geo_interval_us > 0 && now - last_geo_check_us_ >= geo_interval_us) {
      geo_.check_for_changes();
      last_geo_check_us_ = now;
    }
    const bool interval_due =
        config_.stats_interval_s > 0 && now - last_stats_us >= std::int64_t{config_.stats_interval_s} * 1000000;
    if (g_print_stats.exchange(false) || interval_due) {
      log_stats();
      last_stats_us = now;
    }
  }

  void finish() {
    if (g_stop.load()) {
      notifier_.stopping();
      spdlog::info("stopping: flushing the aggregation window and draining the shipper");
    }
    pipeline_.finish();
    if (writer_ != nullptr) writer_->flush();
    if (shipping_ != nullptr) shipping_->finish(kShipDrainTimeout);
    log_stats();
  }

  void report(StatsSink& sink) const {
    source_.report(sink);
    pipeline_.report(sink);
    geo_.report_stats(sink);
    if (writer_ != nullptr) writer_->report(sink);
    if (shipping_ != nullptr) shipping_->report(sink);
  }

  void log_stats() const {
    StatsLine line;
    report(line);
    spdlog::info("stats: {}", line.to_string());
  }

  void update_service_status(std::int64_t now) {
    if (!notifier_.enabled()) return;
    report(service_status_);
    notifier_.status(service_status_.take_line(now));
    last_status_us_ = now;
  }

  const AgentConfig& config_;
  GeoResolver& geo_;
  PacketSource& source_;
  // How long SIGTERM / end of input waits for the collector to acknowledge
  // what is in flight; the rest stays in the spool for the next start.
  static constexpr std::chrono::milliseconds kShipDrainTimeout{10000};

  static constexpr std::int64_t kServiceStatusIntervalUs = 5000000;

  EventJsonWriter* writer_;
  AgentShipping* shipping_;
  ServiceNotifier& notifier_;
  ServiceStatus service_status_;
  std::int64_t last_status_us_ = 0;
  PacketPipeline pipeline_;
  std::uint64_t loops_ = 0;
  std::int64_t last_geo_check_us_ = now_us();
};

// Hands each event to every output that is on (--events, shipping).
class EventOutputs : public AccessEventSink {
 public:
  void add(AccessEventSink* sink) { sinks_[count_++] = sink; }
  void on_access(const AccessEvent& event) override {
    for (std::size_t i = 0; i < count_; ++i) sinks_[i]->on_access(event);
  }

 private:
  std::array<AccessEventSink*, 2> sinks_{};
  std::size_t count_ = 0;
};

int run_agent(const AgentOptions& options) {
  AgentConfig config = default_agent_config();
  if (!build_config(options, config)) return 1;
  if (options.check_config) {
    std::printf("%s: ok\n", options.config_path.empty() ? "command line" : options.config_path.c_str());
    return 0;
  }

  GeoResolver geo(config.geo);
  if (Status s = geo.open(); !s) {
    spdlog::error("geo: {}", s.message());
    return 1;
  }

  Status status;
  std::unique_ptr<PacketSource> source = open_packet_source(config.capture, status);
  if (!source) {
    spdlog::error("capture: {}", status.message());
    return 1;
  }
  g_source.store(source.get());

  std::FILE* events_file = nullptr;
  if (!options.events_path.empty()) {
    events_file = options.events_path == "-" ? stdout : std::fopen(options.events_path.c_str(), "w");
    if (events_file == nullptr) {
      spdlog::error("cannot open events output {}: {}", options.events_path, std::strerror(errno));
      return 1;
    }
  }
  std::optional<EventJsonWriter> writer;
  EventOutputs outputs;
  if (events_file != nullptr) outputs.add(&writer.emplace(events_file));
  // After everything that may need root is open, before any thread starts
  // (the shipper's): capabilities are per thread.
  std::string dropped;
  if (Status s = drop_privileges(config.run_as, dropped); !s) {
    spdlog::error("privileges: {}", s.message());
    return 1;
  }
  spdlog::info("privileges: {}", dropped);
  std::unique_ptr<AgentShipping> shipping;
  if (!config.ship.collectors.empty()) {
    if (Status s = AgentShipping::start(config, shipping); !s) {
      spdlog::error("shipping: {}", s.message());
      return 1;
    }
    outputs.add(shipping.get());
  }

  spdlog::info("agent {} (gateway {}) reading {}", config.identity.id, config.identity.gateway,
               config.capture.read_file.empty() ? "interface " + config.capture.interface
                                                : "file " + config.capture.read_file);
  ServiceNotifier notifier;
  AgentRun run(config, geo, *source, outputs, writer ? &*writer : nullptr, shipping.get(), notifier);
  const int rc = run.run();
  g_source.store(nullptr);
  if (events_file != nullptr && events_file != stdout) std::fclose(events_file);
  return rc;
}

}  // namespace
}  // namespace ipattrib::agent

int main(int argc, char** argv) {
  using namespace ipattrib::agent;
  spdlog::set_default_logger(spdlog::stderr_color_mt("agent"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  AgentOptions options;
  CLI::App app{"ipattrib-agent: attributes HTTP requests seen on the network to accounts and client IPs"};
  add_agent_options(app, options);
  CLI11_PARSE(app, argc, argv);
  install_signal_handlers();
  return run_agent(options);
}
