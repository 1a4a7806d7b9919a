// CollectorRun: one ipattrib-collector process from start to exit — opens the
// ledger, the special-measures side, the agent listener, the retention job
// and the query API in that order (so /healthz answering means fully up),
// tells systemd it is ready, serves signals from its main loop, and shuts
// down ingest first so no committed batch loses its ACK. With [ingest]
// enabled = false it opens only the ledger and the query API (query-only).
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "collector/api/query_api.h"
#include "collector/collector_alerts.h"
#include "collector/collector_config.h"
#include "collector/ingest/ingest_server.h"
#include "collector/ledger/ledger_store.h"
#include "collector/retention_job.h"
#include "common/systemd/service_notifier.h"

namespace ipattrib::collector {

// Set by the signal handlers, read by the main loop.
struct CollectorSignals {
  std::atomic<bool> stop{false};         // SIGTERM, SIGINT
  std::atomic<bool> print_stats{false};  // SIGUSR1
  std::atomic<bool> reload{false};       // SIGHUP
};

class CollectorRun {
 public:
  // `config` was loaded from `config_path`; SIGHUP reads that file again.
  CollectorRun(std::string config_path, CollectorConfig config, CollectorSignals& signals);
  ~CollectorRun();

  // 0 after a clean stop, 1 when start-up failed.
  int run();

 private:
  bool start();
  bool start_alerts();
  bool start_api();
  void main_loop();
  // SIGHUP: re-reads the config file; a bad one changes nothing. Reloads the
  // agent TLS files and allow-list, the API tokens and the policy; says which
  // changed settings need a restart.
  void reload();
  void shut_down();
  void report(StatsSink& sink) const;
  void log_stats();
  std::string status_line() const;

  const std::string config_path_;
  CollectorConfig config_;
  CollectorSignals& signals_;
  ServiceNotifier notifier_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<CollectorAlerts> alerts_;
  std::unique_ptr<IngestServer> ingest_;
  std::unique_ptr<RetentionJob> retention_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<QueryApi> api_;
  std::thread http_thread_;
};

}  // namespace ipattrib::collector
