// AlertStore: where raised alerts, their analyst state and the delivery
// outbox live, behind one interface so the SQLite store and the shared
// PostgreSQL store are interchangeable. Every method returns a Status
// instead of throwing; implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // Records the hits one agent batch produced, exactly once per (agent_id,
  // sequence) and in one transaction: a hit whose (measure, account, ip) has
  // an alert created within dedup_window_ms before now_ms is folded into it
  // (count, last_access_ms, suppressed_hits grow); otherwise a new open
  // alert is created and one outbox entry per name in `sinks` is queued.
  // agent_id "" with sequence 0 is a retroactive scan: never "already
  // evaluated", and the alerts it creates are marked retroactive. An empty `hits` still records the (agent, sequence).
  virtual Status record_hits(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                             std::int64_t now_ms, std::int64_t dedup_window_ms, const std::vector<std::string>& sinks,
                             RecordHitsResult& result) = 0;
  // Highest sequence recorded for the agent, 0 if none: the ingest path
  // re-evaluates a retransmitted batch the ledger had committed but whose
  // hits were not yet recorded (a crash between the two commits).
  virtual Status evaluated_sequence(const std::string& agent_id, std::uint64_t& sequence) = 0;

  virtual Status list_alerts(const AlertQuery& query, std::vector<Alert>& alerts, bool& more) = 0;
  // found is false (and the Status ok) when no alert has this id.
  virtual Status get_alert(std::int64_t id, Alert& alert, bool& found) = 0;
  // open -> acknowledged -> resolved (open -> resolved allowed; never backwards).
  virtual Status set_alert_state(std::int64_t id, AlertState state, const std::string& by, const std::string& note,
                                 std::int64_t now_ms, bool& found) = 0;

  // Outbox: entries of `sink` due at now_ms, oldest first.
  virtual Status due_deliveries(const std::string& sink, std::int64_t now_ms, std::uint32_t limit,
                                std::vector<OutboxEntry>& entries) = 0;
  virtual Status mark_delivered(std::int64_t outbox_id) = 0;
  virtual Status mark_failed(std::int64_t outbox_id, std::int64_t next_attempt_ms, const std::string& error) = 0;
  virtual Status outbox_depth(const std::string& sink, std::uint64_t& pending) = 0;
};

}  // namespace ipattrib::collector
