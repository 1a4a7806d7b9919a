// AlertStore: where raised alerts, their analyst state and the delivery
// outbox live, behind one interface so the SQLite store and the shared
// PostgreSQL store are interchangeable. Every method returns a Status
// instead of throwing; implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
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

  // Outbox, shared by every collector using the store. Claims up to `limit`
  // entries of `sink` that are due (next_attempt_ms <= now_ms) and not
  // leased to another claimer (leased_until_ms <= now_ms), oldest first, and
  // leases them until now_ms + lease_ms: no other claim returns them before
  // then. A claimer that dies holding a lease just lets it expire and
  // another delivers the entry (at-least-once; the alert id is the
  // receivers' idempotency key). Collectors' clocks must agree to well
  // within lease_ms.
  virtual Status claim_deliveries(const std::string& sink, std::int64_t now_ms, std::int64_t lease_ms,
                                  std::uint32_t limit, std::vector<OutboxEntry>& entries) = 0;
  // Each of these ends a claim: delivered deletes the entry; failed counts
  // an attempt and makes it due again at next_attempt_ms; released gives it
  // back untried (due at once, no attempt counted), e.g. at shutdown.
  virtual Status mark_delivered(std::int64_t outbox_id) = 0;
  virtual Status mark_failed(std::int64_t outbox_id, std::int64_t next_attempt_ms, const std::string& error) = 0;
  virtual Status release_delivery(std::int64_t outbox_id) = 0;
  // Entries of `sink` not yet delivered, leased or not.
  virtual Status outbox_depth(const std::string& sink, std::uint64_t& pending) = 0;

  // Runs `scan` (a retroactive scan recording hits with agent "") while no
  // other collector sharing this store runs one: collectors reloading the
  // same policy change all start a scan, and the later ones must find the
  // first one's alerts and leave those keys alone rather than count the
  // same accesses again. A store only one collector uses needs no lock.
  virtual Status exclusive_scan(const std::function<Status()>& scan) { return scan(); }
};

}  // namespace ipattrib::collector
