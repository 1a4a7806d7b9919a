// ipattrib-agent: captures HTTP request heads (live or from a capture file),
// attributes each to an account and a client IP, geo-resolves it, and writes
// the events. Exit status: 0 ok, 1 bad configuration or capture error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_options.h"
#include "agent/agent_run.h"
#include "agent/agent_shipping.h"
#include "agent/capture/packet_source_factory.h"
#include "agent/config/agent_config.h"
#include "agent/metrics/metrics_server.h"
#include "agent/metrics/metrics_snapshot.h"
#include "agent/output/event_json_writer.h"
#include "common/privilege/privilege_drop.h"
#include "common/systemd/service_notifier.h"

namespace ipattrib::agent {
namespace {

AgentSignals g_signals;
std::atomic<PacketSource*> g_source{nullptr};

extern "C" void on_signal(int signal_number) {
  switch (signal_number) {
    case SIGINT:
    case SIGTERM:
      g_signals.stop.store(true);
      if (PacketSource* source = g_source.load()) source->break_loop();
      break;
    case SIGUSR1: g_signals.print_stats.store(true); break;
    case SIGHUP: g_signals.reload.store(true); break;
    default: break;
  }
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) sigaction(s, &action, nullptr);
}

std::int64_t wall_clock_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run_agent(const AgentOptions& options) {
  const std::int64_t start_us = wall_clock_us();
  AgentConfig config = default_agent_config();
  if (!build_config(options, config)) return 1;
  if (options.check_config) {
    if (Status s = check_packet_source(config.capture); !s) {
      spdlog::error("capture: {}", s.message());
      return 1;
    }
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
  if (events_file != nullptr) writer.emplace(events_file);
  // Bound while still root (a port below 1024), served once root is dropped.
  std::optional<MetricsSnapshot> metrics;
  std::optional<MetricsServer> metrics_server;
  if (!config.metrics_listen.empty()) {
    metrics.emplace(MetricsSnapshot::Identity{config.identity.id, config.identity.gateway, IPATTRIB_VERSION, start_us});
    metrics_server.emplace(*metrics);
    if (Status s = metrics_server->bind(config.metrics_listen); !s) {
      spdlog::error("metrics: {}", s.message());
      return 1;
    }
  }
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
    if (Status s = AgentShipping::start(config, AgentRun::runs_on_capture_thread(config),
                                         source->replays_a_file(), shipping); !s) {
      spdlog::error("shipping: {}", s.message());
      return 1;
    }
  }

  spdlog::info("agent {} (gateway {}) reading {}", config.identity.id, config.identity.gateway,
               capture_description(config.capture));
  if (metrics_server) {
    metrics_server->start();
    spdlog::info("metrics: serving GET /metrics and /healthz on {}", config.metrics_listen);
  }
  ServiceNotifier notifier;
  // Without a config file there is nothing to read again: SIGHUP reopens the geo databases.
  std::optional<AgentReload> reload;
  if (!options.config_path.empty()) reload.emplace(options);
  AgentRun run(config, geo, *source, writer ? &*writer : nullptr, shipping.get(), notifier, g_signals,
               reload ? &*reload : nullptr);
  if (metrics) run.set_metrics(&*metrics);
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
