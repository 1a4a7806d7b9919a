#include "collector/collector_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "collector/api/api_server.h"
#include "collector/ledger/ledger_store_factory.h"
#include "ipattrib/prometheus_text.h"
#include "ipattrib/stats_line.h"

namespace ipattrib::collector {
namespace {

constexpr auto kLoopSlice = std::chrono::milliseconds(100);
constexpr auto kStatusInterval = std::chrono::seconds(5);

}  // namespace

CollectorRun::CollectorRun(std::string config_path, CollectorConfig config, CollectorSignals& signals)
    : config_path_(std::move(config_path)), config_(std::move(config)), signals_(signals) {}

CollectorRun::~CollectorRun() { shut_down(); }

int CollectorRun::run() {
  if (!start()) {
    shut_down();
    return 1;
  }
  notifier_.ready();
  notifier_.status(status_line());
  main_loop();
  notifier_.stopping();
  spdlog::info("stopping: finishing the batches in hand");
  shut_down();
  return 0;
}

bool CollectorRun::start() {
  const LedgerConfig& ledger = config_.ledger;
  if (Status s = open_ledger_store(ledger, store_); !s) {
    spdlog::error("ledger: {}", s.message());
    return false;
  }
  if (!config_.ingest.enabled) {
    // Query-only: analysts read a ledger that ingesting collectors fill and
    // keep; this process must not write it behind their back.
    spdlog::info("ingest: off ([ingest] enabled = false): query only; no agent listener, no special-measures "
                 "screening, no retention job");
    return start_api();
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

bool CollectorRun::start_alerts() {
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

bool CollectorRun::start_api() {
  if (Status s = make_api_server(config_.api, http_); !s) {
    spdlog::error("api: {}", s.message());
    return false;
  }
  api_ = std::make_unique<QueryApi>(*store_, config_.api);
  api_->set_extra_metrics([this](std::string& out) {
    PrometheusText prometheus("ipattrib_");
    report(prometheus);
    prometheus.write(out);
    if (ingest_) ingest_->counters().store_apply_seconds.write_prometheus("ipattrib_ingest_store_apply_seconds", out);
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

void CollectorRun::main_loop() {
  using Clock = std::chrono::steady_clock;
  auto last_stats = Clock::now();
  auto last_status = Clock::now();
  const auto stats_interval = std::chrono::seconds(config_.stats_interval_s);
  while (!signals_.stop.load()) {
    std::this_thread::sleep_for(kLoopSlice);
    notifier_.watchdog_ping();
    if (signals_.reload.exchange(false)) reload();
    if (alerts_) alerts_->poll();
    const auto now = Clock::now();
    if (now - last_status >= kStatusInterval) {
      notifier_.status(status_line());
      last_status = now;
    }
    const bool interval_due = config_.stats_interval_s > 0 && now - last_stats >= stats_interval;
    if (signals_.print_stats.exchange(false) || interval_due) {
      log_stats();
      last_stats = now;
    }
  }
}

void CollectorRun::reload() {
  notifier_.reloading();
  ConfigErrors errors(config_path_);
  std::optional<CollectorConfig> fresh = load_collector_config(config_path_, errors);
  if (!fresh) {
    spdlog::error("SIGHUP: {} not reloaded, the running configuration stays:\n{}", config_path_, errors.to_string());
    notifier_.ready();
    return;
  }
  if (!ingest_) {
    // Query-only: no listener whose TLS files or allow-list could change.
  } else if (Status s = ingest_->reload(fresh->ingest); !s) {
    spdlog::error("SIGHUP: agent TLS files not reloaded ({}); new agent connections keep the old ones", s.message());
  } else {
    config_.ingest.tls_ca = fresh->ingest.tls_ca;
    config_.ingest.tls_cert = fresh->ingest.tls_cert;
    config_.ingest.tls_key = fresh->ingest.tls_key;
    config_.ingest.allowed_agents = fresh->ingest.allowed_agents;
    config_.ingest.idle_timeout_s = fresh->ingest.idle_timeout_s;
  }
  api_->set_tokens(fresh->api.token_sha256);
  config_.api.token_sha256 = fresh->api.token_sha256;
  for (const std::string& setting : settings_needing_restart(config_, *fresh)) {
    spdlog::warn("SIGHUP: {} changed; it takes effect at the next restart", setting);
  }
  spdlog::info("SIGHUP: {} reloaded: agent certificates and allow-list ({} identities), {} API tokens", config_path_,
               config_.ingest.allowed_agents.size(), config_.api.token_sha256.size());
  if (alerts_) alerts_->reload();
  notifier_.ready();
}

void CollectorRun::shut_down() {
  if (ingest_) ingest_->stop();
  if (alerts_) alerts_->stop();
  if (http_) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
  if (retention_) retention_->stop();
  if (ingest_ || http_) log_stats();
  ingest_.reset();
  alerts_.reset();
  retention_.reset();
}

void CollectorRun::report(StatsSink& sink) const {
  if (ingest_) ingest_->report(sink);
  if (retention_) retention_->report(sink);
  if (alerts_) alerts_->report(sink);
}

void CollectorRun::log_stats() {
  StatsLine line;
  report(line);
  if (!ingest_) {
    spdlog::info("stats: query only {}", line.to_string());
    return;
  }
  const LatencyHistogram& apply = ingest_->counters().store_apply_seconds;
  spdlog::info("stats: {} store_apply_p50_le_ms={} store_apply_p99_le_ms={}", line.to_string(),
               apply.quantile_upper_bound(0.5) * 1000, apply.quantile_upper_bound(0.99) * 1000);
}

std::string CollectorRun::status_line() const {
  if (!ingest_) return "query only (ingest off)";
  const IngestCounters& c = ingest_->counters();
  return fmt::format("{} agents connected, {} batches / {} accesses applied, {} duplicates ignored, {} store errors",
                     c.agents_connected.load(), c.batches.load(), c.accesses.load(), c.duplicate_batches.load(),
                     c.store_errors.load());
}

}  // namespace ipattrib::collector
