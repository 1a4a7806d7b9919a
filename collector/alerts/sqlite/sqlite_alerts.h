// SqliteAlerts: the SQLite AlertStore (private to collector/alerts/sqlite).
// Two connections to one WAL file: writes (hits, state, outbox) serialise on
// the writer; list/get run on the reader so an analyst's paging never delays
// ingest. Prepared statements live as long as their connection.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>

#include "collector/alerts/alert_store.h"
#include "collector/alerts/sqlite/sqlite_alert_store.h"
#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {

class SqliteAlerts final : public AlertStore {
 public:
  ~SqliteAlerts() override;
  Status open(const SqliteAlertStoreOptions& options);

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

 private:
  struct Statements;
  struct Connection {
    std::mutex mutex;
    sqlite3* db = nullptr;
    std::unique_ptr<Statements> st;
  };

  Status open_connection(const SqliteAlertStoreOptions& options, Connection& connection);
  Status prepare_statements(Connection& connection);
  Status record_in_transaction(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                               std::int64_t now_ms, std::int64_t dedup_window_ms, const std::vector<std::string>& sinks,
                               RecordHitsResult& result);
  // retroactive: raised by a scan of the ledger, not by an agent's batch.
  Status record_hit(const AlertHit& hit, std::int64_t now_ms, std::int64_t dedup_window_ms,
                    const std::vector<std::string>& sinks, bool retroactive, RecordHitsResult& result);
  Status read_alerts(SqliteStatement& stmt, std::uint32_t limit, std::vector<Alert>& alerts, bool& more);
  Status get_alert_locked(Connection& connection, std::int64_t id, Alert& alert, bool& found);

  Connection writer_;
  Connection reader_;
};

}  // namespace ipattrib::collector
