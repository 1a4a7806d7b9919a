#include "collector/collector_alerts.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "collector/alerts/alert_sinks.h"
#include "collector/alerts/alert_store_factory.h"
#include "collector/policy/policy_json.h"

namespace ipattrib::collector {

std::string default_alerts_path(const CollectorConfig& config) {
  if (!config.alerts.sqlite_path.empty()) return config.alerts.sqlite_path;
  return (std::filesystem::path(config.ledger.sqlite_path).parent_path() / "alerts.sqlite3").string();
}

// A webhook delivery may take its timeout three times (connect, send,
// answer); the lease covers that twice over, so a slow delivery started late
// in a claim still finishes before another collector may take the entry.
std::uint32_t delivery_lease_ms(const AlertsConfig& alerts) {
  std::uint32_t longest = 5000;  // the syslog sink's I/O timeout
  for (const WebhookSinkConfig& w : alerts.webhooks) longest = std::max(longest, w.timeout_ms);
  return std::max<std::uint32_t>(120000, 2 * 3 * longest);
}

Status CollectorAlerts::start(const CollectorConfig& config, LedgerStore& ledger,
                              std::unique_ptr<CollectorAlerts>& out) {
  std::unique_ptr<CollectorAlerts> alerts(new CollectorAlerts());
  AlertStoreChoice choice;
  choice.sqlite_path = default_alerts_path(config);
  choice.postgresql_connections = static_cast<std::uint32_t>(config.alerts.sink_names().size()) + 2;
  std::string where;
  if (Status s = open_alert_store(config.ledger, choice, alerts->store_, where); !s) return s;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  if (Status s = open_alert_sinks(config.alerts, sinks); !s) return Status::error("alert sinks: " + s.message());
  AlertDeliveryOptions delivery;
  delivery.retry_base_ms = config.alerts.retry_base_ms;
  delivery.retry_max_ms = config.alerts.retry_max_ms;
  delivery.lease_ms = delivery_lease_ms(config.alerts);
  alerts->delivery_ = std::make_unique<AlertDelivery>(*alerts->store_, std::move(sinks), delivery);

  AlertEngineSettings settings;
  settings.dedup_window_ms = static_cast<std::int64_t>(config.alerts.dedup_window_s) * 1000;
  settings.sinks = config.alerts.sink_names();
  AlertDelivery* wake = alerts->delivery_.get();
  settings.alerts_queued = [wake] { wake->wake(); };
  alerts->engine_ = std::make_unique<AlertEngine>(ledger, *alerts->store_, settings);

  PolicyLoadOptions load;
  if (!config.policy.iso_codes_dir.empty()) load.iso_codes_dir = config.policy.iso_codes_dir;
  alerts->watch_ =
      std::make_unique<PolicyFileWatch>(config.policy.path, load, *alerts->engine_, config.policy.scan_on_change);
  ConfigErrors errors(config.policy.path);
  if (!alerts->watch_->load(errors)) return Status::error("special-measures policy:\n" + errors.to_string());
  alerts->watch_interval_ = std::chrono::seconds(config.policy.watch_interval_s);
  alerts->last_poll_ = std::chrono::steady_clock::now();
  alerts->delivery_->start();
  spdlog::info("alerts: stored in {}, delivered to {} sink(s), hits of one (measure, account, ip) fold into one alert "
               "for {} s",
               where, settings.sinks.size(), config.alerts.dedup_window_s);
  out = std::move(alerts);
  return Status::ok();
}

CollectorAlerts::~CollectorAlerts() { stop(); }

AlertEndpoints CollectorAlerts::endpoints() {
  AlertEndpoints endpoints;
  endpoints.store = store_.get();
  AlertEngine* engine = engine_.get();
  endpoints.measures = [engine]() -> nlohmann::json {
    auto evaluator = engine->policy();
    return evaluator ? policy_to_json(evaluator->policy()) : nlohmann::json();
  };
  endpoints.scan = [engine](const std::string& measure_id, ScanOutcome& outcome) {
    auto evaluator = engine->policy();
    if (!measure_id.empty() && (!evaluator || evaluator->policy().find(measure_id) == nullptr)) {
      outcome.kind = ScanOutcome::Kind::kUnknownMeasure;
      outcome.summary = {{"error", "no measure in force has id '" + measure_id + "'"}};
      return Status::ok();
    }
    std::vector<std::string> ids;
    if (!measure_id.empty()) ids.push_back(measure_id);
    if (!engine->start_scan(ids)) {
      outcome.kind = ScanOutcome::Kind::kBusy;
      outcome.summary = {{"error", "a retroactive scan is already running"}};
      return Status::ok();
    }
    outcome.kind = ScanOutcome::Kind::kStarted;
    outcome.summary = {{"started", true}, {"measures", measure_id.empty() ? nlohmann::json("all") : nlohmann::json(ids)}};
    return Status::ok();
  };
  return endpoints;
}

void CollectorAlerts::poll() {
  if (watch_interval_.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_poll_ < watch_interval_) return;
  last_poll_ = now;
  watch_->poll();
}

void CollectorAlerts::stop() {
  if (delivery_) delivery_->stop();
}

void CollectorAlerts::report(StatsSink& sink) const {
  watch_->report(sink);
  engine_->report(sink);
  delivery_->report(sink);
}

}  // namespace ipattrib::collector
