// CollectorAlerts: the collector's special-measures side assembled from its
// config — the alert store, the policy in force and its file watch, the
// engine ingest runs after every commit, and the delivery worker draining
// the outbox to the sinks. Absent ([policy] path empty) when the collector
// keeps the ledger only.
#pragma once

#include <chrono>
#include <memory>

#include "collector/alert_engine/alert_engine.h"
#include "collector/alert_engine/policy_file_watch.h"
#include "collector/alerts/alert_delivery.h"
#include "collector/alerts/alert_store.h"
#include "collector/api/alert_routes.h"
#include "collector/collector_config.h"
#include "collector/ledger/ledger_store.h"
#include "ipattrib/config_errors.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class CollectorAlerts {
 public:
  // Opens the store and the sinks, loads the policy (an invalid one fails
  // with its file:line errors) and starts delivery. `ledger` must outlive it.
  static Status start(const CollectorConfig& config, LedgerStore& ledger, std::unique_ptr<CollectorAlerts>& out);
  ~CollectorAlerts();  // stop()

  CommittedBatchObserver& observer() { return *engine_; }
  // What the query API serves /v1/alerts, /v1/measures and /v1/scan from.
  AlertEndpoints endpoints();
  // SIGHUP: reload the policy file.
  void reload() { watch_->reload("SIGHUP"); }
  // From the main loop: reload the policy when its file changed.
  void poll();
  void stop();
  void report(StatsSink& sink) const;

 private:
  CollectorAlerts() = default;

  std::unique_ptr<AlertStore> store_;
  std::unique_ptr<AlertDelivery> delivery_;
  std::unique_ptr<AlertEngine> engine_;
  std::unique_ptr<PolicyFileWatch> watch_;
  std::chrono::seconds watch_interval_{0};
  std::chrono::steady_clock::time_point last_poll_;
};

// Where alerts are stored with an SQLite ledger when [alerts] sqlite_path is
// empty: alerts.sqlite3 beside the ledger's SQLite file. (With a PostgreSQL
// ledger they are in the ledger's database.)
std::string default_alerts_path(const CollectorConfig& config);
// How long a delivery worker's claim on outbox entries lasts: long enough
// for the slowest configured sink (AlertDeliveryOptions::lease_ms).
std::uint32_t delivery_lease_ms(const AlertsConfig& alerts);

}  // namespace ipattrib::collector
