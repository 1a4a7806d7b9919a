// ipattrib-collector: receives agents' batches over mutual TLS, keeps the
// per-account IP ledger (SQLite or PostgreSQL), screens every access against
// the special-measures policy and delivers its alerts, serves the query API,
// and enforces the retention window. Exit status: 0 ok (also after SIGTERM/SIGINT), 1 bad
// configuration or a failure to start.
#include <httplib.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "collector/api/api_server.h"
#include "collector/api/query_api.h"
#include "collector/collector_alerts.h"
#include "collector/collector_config.h"
#include "collector/ingest/ingest_server.h"
#include "collector/ledger/ledger_store_factory.h"
#include "collector/policy/policy_loader.h"
#include "collector/retention_job.h"
#include "ipattrib/stats_line.h"

namespace ipattrib::collector {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_print_stats{false};
std::atomic<bool> g_reload{false};

extern "C" void on_signal(int signal_number) {
  switch (signal_number) {
    case SIGINT:
    case SIGTERM: g_stop.store(true); break;
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
  std::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error on that connection, not the process's end
}

// Prometheus text for the collector's own counters: "ingest.batches" becomes
// ipattrib_ingest_batches_total; gauges (names ending _active, _connected,
// _pending) keep their names.
class PrometheusCounters : public StatsSink {
 public:
  explicit PrometheusCounters(std::string& out) : out_(out) {}
  void counter(std::string_view name, std::uint64_t value) override {
    std::string metric = "ipattrib_" + std::string(name);
    for (char& c : metric) {
      if (c == '.') c = '_';
    }
    const bool gauge = name.ends_with("_active") || name.ends_with("_connected") || name.ends_with("_pending");
    if (!gauge) metric += "_total";
    out_ += fmt::format("# TYPE {} {}\n{} {}\n", metric, gauge ? "gauge" : "counter", metric, value);
  }

 private:
  std::string& out_;
};

class CollectorRun {
 public:
  explicit CollectorRun(const CollectorConfig& config) : config_(config) {}

  int run() {
    if (!start()) {
      shut_down();
      return 1;
    }
    wait_for_stop();
    shut_down();
    return 0;
  }

 private:
  bool start() {
    const LedgerConfig& ledger = config_.ledger;
    if (Status s = open_ledger_store(ledger, store_); !s) {
      spdlog::error("ledger: {}", s.message());
      return false;
    }
    if (!start_alerts()) return false;
    ingest_ = std::make_unique<IngestServer>(config_.ingest, *store_, config_.wire);
    if (alerts_) ingest_->set_committed_batch_observer(&alerts_->observer());
    if (Status s = ingest_->start(); !s) {
      spdlog::error("ingest {}: {}", config_.ingest.listen, s.message());
      return false;
    }
    spdlog::info("ingest: listening for agents on {} (port {})", config_.ingest.listen, ingest_->port());
    retention_ = std::make_unique<RetentionJob>(*store_, ledger.retention_days,
                                                std::chrono::seconds(ledger.retention_interval_s));
    retention_->start();
    return start_api();
  }

  bool start_alerts() {
    if (config_.policy.path.empty()) {
      spdlog::warn("special measures: off ([policy] path is empty): accesses are recorded but never screened");
      return true;
    }
    if (Status s = CollectorAlerts::start(config_, *store_, alerts_); !s) {
      spdlog::error("{}", s.message());
      return false;
    }
    return true;
  }

  // Last, so /healthz answering means the collector is fully up.
  bool start_api() {
    if (Status s = make_api_server(config_.api, http_); !s) {
      spdlog::error("api: {}", s.message());
      return false;
    }
    api_ = std::make_unique<QueryApi>(*store_, config_.api);
    api_->set_extra_metrics([this](std::string& out) {
      PrometheusCounters prometheus(out);
      report(prometheus);
      ingest_->counters().store_apply_seconds.write_prometheus("ipattrib_ingest_store_apply_seconds", out);
    });
    if (alerts_) api_->set_alerts(alerts_->endpoints());
    api_->register_routes(*http_);
    std::string host;
    int port = 0;
    if (!split_listen_address(config_.api.listen, host, port) || !http_->bind_to_port(host, port)) {
      spdlog::error("api: cannot listen on {}", config_.api.listen);
      return false;
    }
    http_thread_ = std::thread([this] { http_->listen_after_bind(); });
    spdlog::info("api: listening on {}{}", config_.api.listen, config_.api.tls_cert.empty() ? "" : " (HTTPS)");
    return true;
  }

  void wait_for_stop() {
    auto last_stats = std::chrono::steady_clock::now();
    const auto stats_interval = std::chrono::seconds(config_.stats_interval_s);
    while (!g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (g_reload.exchange(false)) reload();
      if (alerts_) alerts_->poll();
      const auto now = std::chrono::steady_clock::now();
      const bool interval_due = config_.stats_interval_s > 0 && now - last_stats >= stats_interval;
      if (g_print_stats.exchange(false) || interval_due) {
        log_stats();
        last_stats = now;
      }
    }
    spdlog::info("stopping: finishing the batches in hand");
  }

  // SIGHUP: the special-measures policy is reloaded; the rest of the
  // configuration still needs a restart.
  void reload() {
    if (alerts_) {
      alerts_->reload();
    } else {
      spdlog::warn("SIGHUP: no special-measures policy is configured; other settings need a restart");
    }
  }

  // Ingest first: each connection commits and acknowledges the batch it
  // holds, so an agent never loses an ACK for a committed batch.
  void shut_down() {
    if (ingest_) ingest_->stop();
    if (alerts_) alerts_->stop();
    if (http_) http_->stop();
    if (http_thread_.joinable()) http_thread_.join();
    if (retention_) retention_->stop();
    if (ingest_) log_stats();
  }

  void report(StatsSink& sink) const {
    if (ingest_) ingest_->report(sink);
    if (retention_) retention_->report(sink);
    if (alerts_) alerts_->report(sink);
  }

  void log_stats() const {
    StatsLine line;
    report(line);
    const LatencyHistogram& apply = ingest_->counters().store_apply_seconds;
    spdlog::info("stats: {} store_apply_p50_le_ms={} store_apply_p99_le_ms={}", line.to_string(),
                 apply.quantile_upper_bound(0.5) * 1000, apply.quantile_upper_bound(0.99) * 1000);
  }

  const CollectorConfig& config_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<CollectorAlerts> alerts_;
  std::unique_ptr<IngestServer> ingest_;
  std::unique_ptr<RetentionJob> retention_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<QueryApi> api_;
  std::thread http_thread_;
};

int run_collector(const std::string& config_path, bool check_only) {
  ConfigErrors errors(config_path);
  std::optional<CollectorConfig> config = load_collector_config(config_path, errors);
  if (!config) {
    std::fprintf(stderr, "%s\n", errors.to_string().c_str());
    return 1;
  }
  if (check_only) {
    std::printf("%s: ok\n", config_path.c_str());
    if (config->policy.path.empty()) return 0;
    PolicyLoadOptions options;
    if (!config->policy.iso_codes_dir.empty()) options.iso_codes_dir = config->policy.iso_codes_dir;
    return check_policy_file(config->policy.path, std::cout, std::cerr, options);
  }
  CollectorRun run(*config);
  return run.run();
}

}  // namespace
}  // namespace ipattrib::collector

int main(int argc, char** argv) {
  using namespace ipattrib::collector;
  spdlog::set_default_logger(spdlog::stderr_color_mt("collector"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  std::string config_path;
  bool check_only = false;
  std::string policy_to_check;
  CLI::App app{"ipattrib-collector: receives agents' records and keeps the per-account IP ledger"};
  auto* config_option = app.add_option("--config", config_path, "collector.toml");
  app.add_option("--check-policy", policy_to_check, "validate a special-measures policy file, then exit")
      ->excludes(config_option);
  app.add_flag("--check-config", check_only, "validate the configuration (and that its TLS files are readable), then exit");
  CLI11_PARSE(app, argc, argv);
  if (!policy_to_check.empty()) return check_policy_file(policy_to_check, std::cout, std::cerr);
  if (config_path.empty()) {
    std::fprintf(stderr, "--config is required\n%s", app.help().c_str());
    return 2;
  }
  install_signal_handlers();
  return run_collector(config_path, check_only);
}
