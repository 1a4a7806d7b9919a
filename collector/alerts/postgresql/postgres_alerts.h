// PostgresAlerts: the PostgreSQL AlertStore (private to
// collector/alerts/postgresql). A small pool of connections serves every
// call, each borrowing one for one statement or one transaction; a
// connection the server dropped (restart, failover) is re-established and
// the work run again.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector/alerts/alert_store.h"
#include "collector/alerts/postgresql/postgres_alert_store.h"
#include "collector/ledger/postgresql/postgres_connection.h"

namespace ipattrib::collector {

class PostgresAlerts final : public AlertStore {
 public:
  Status open(const PostgresAlertStoreOptions& options);

  Status record_hits(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                     std::int64_t now_ms, std::int64_t dedup_window_ms, const std::vector<std::string>& sinks,
                     RecordHitsResult& result) override;
  Status evaluated_sequence(const std::string& agent_id, std::uint64_t& sequence) override;
  Status list_alerts(const AlertQuery& query, std::vector<Alert>& alerts, bool& more) override;
  Status get_alert(std::int64_t id, Alert& alert, bool& found) override;
  Status set_alert_state(std::int64_t id, AlertState state, const std::string& by, const std::string& note,
                         std::int64_t now_ms, bool& found) override;
  Status claim_deliveries(const std::string& sink, std::int64_t now_ms, std::int64_t lease_ms, std::uint32_t limit,
                          std::vector<OutboxEntry>& entries) override;
  Status mark_delivered(std::int64_t outbox_id) override;
  Status mark_failed(std::int64_t outbox_id, std::int64_t next_attempt_ms, const std::string& error) override;
  Status release_delivery(std::int64_t outbox_id) override;
  Status outbox_depth(const std::string& sink, std::uint64_t& pending) override;
  Status exclusive_scan(const std::function<Status()>& scan) override;

 private:
  class ConnectionLease;
  // Fills in the failed statement's SQLSTATE so the caller can tell a
  // deadlock (run again) from a real error.
  using Work = std::function<Status(PostgresConnection&, std::string& sqlstate)>;

  // Runs `work` on a pooled connection, inside BEGIN/COMMIT when
  // `transaction`. A lost connection, deadlock or serialization failure
  // rolls back and runs it again (a few times); `work` must start from
  // scratch each time.
  Status run(bool transaction, const Work& work);
  Status run_statement(const char* name, const PgParams& params, PgResult& result) {
    return run(false, [&](PostgresConnection& c, std::string& sqlstate) {
      return c.run(name, params, result, &sqlstate);
    });
  }
  PostgresConnection* acquire();
  void release(PostgresConnection* c);

  Status record_in_transaction(PostgresConnection& c, const std::string& agent_id, std::uint64_t sequence,
                               const std::vector<AlertHit>& hits, std::int64_t now_ms, std::int64_t dedup_window_ms,
                               const std::vector<std::string>& sinks, RecordHitsResult& result,
                               std::string& sqlstate);
  Status record_hit(PostgresConnection& c, const AlertHit& hit, std::int64_t now_ms, std::int64_t dedup_window_ms,
                    const std::string& sinks_array, bool retroactive, RecordHitsResult& result,
                    std::string& sqlstate);

  PostgresAlertStoreOptions options_;
  // Holds the session-level scan lock for the length of a scan; its own
  // connection, so the scan's recording never waits for a pooled one it
  // holds itself.
  std::mutex scan_mutex_;
  PostgresConnection scan_lock_;  // scan_mutex_

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PostgresConnection>> connections_;
  std::vector<PostgresConnection*> idle_;  // pool_mutex_
};

}  // namespace ipattrib::collector
