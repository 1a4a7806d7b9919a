// Reading alerts (list, get, evaluated sequence) and the shared delivery
// outbox of the PostgreSQL alert store.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "collector/alerts/postgresql/postgres_alert_statements.h"
#include "collector/alerts/postgresql/postgres_alerts.h"

namespace ipattrib::collector {

Status PostgresAlerts::evaluated_sequence(const std::string& agent_id, std::uint64_t& sequence) {
  PgResult r;
  Status s = run_statement("select_sequence", PgParams().bytea(agent_id), r);
  sequence = s && r.rows() > 0 ? static_cast<std::uint64_t>(r.int_at(0, 0)) : 0;
  return s;
}

Status PostgresAlerts::list_alerts(const AlertQuery& query, std::vector<Alert>& alerts, bool& more) {
  alerts.clear();
  more = false;
  if (query.limit == 0) return Status::ok();
  PgParams params;
  params.int8(query.before_id).int8(query.state ? static_cast<int>(*query.state) : -1);
  params.int8(static_cast<int>(query.min_severity.value_or(Severity::kInfo))).bytea(query.measure_id);
  params.int8(query.since_ms).int8(query.until_ms).int8(static_cast<std::int64_t>(query.limit) + 1);
  if (!query.account.empty()) params.bytea(query.account);
  PgResult r;
  if (Status s = run_statement(query.account.empty() ? "list_any" : "list_account", params, r); !s) return s;
  const int rows = std::min<int>(r.rows(), static_cast<int>(query.limit));
  more = r.rows() > rows;
  for (int i = 0; i < rows; ++i) alerts.push_back(read_pg_alert(r, i));
  return Status::ok();
}

Status PostgresAlerts::get_alert(std::int64_t id, Alert& alert, bool& found) {
  PgResult r;
  found = false;
  if (Status s = run_statement("get_alert", PgParams().int8(id), r); !s) return s;
  found = r.rows() > 0;
  if (found) alert = read_pg_alert(r, 0);
  return Status::ok();
}

Status PostgresAlerts::claim_deliveries(const std::string& sink, std::int64_t now_ms, std::int64_t lease_ms,
                                        std::uint32_t limit, std::vector<OutboxEntry>& entries) {
  entries.clear();
  if (lease_ms <= 0) return Status::error("claim_deliveries: the lease must be positive");
  const std::int64_t until = now_ms > INT64_MAX - lease_ms ? INT64_MAX : now_ms + lease_ms;
  PgParams params;
  params.bytea(sink).int8(now_ms).int8(until).int8(limit);
  PgResult r;
  if (Status s = run_statement("claim_outbox", params, r); !s) return s;
  for (int i = 0; i < r.rows(); ++i) entries.push_back(read_pg_outbox_entry(r, i));
  // RETURNING yields rows in no promised order.
  std::sort(entries.begin(), entries.end(), [](const OutboxEntry& a, const OutboxEntry& b) { return a.id < b.id; });
  return Status::ok();
}

Status PostgresAlerts::mark_delivered(std::int64_t outbox_id) {
  PgResult ignored;
  return run_statement("delete_outbox", PgParams().int8(outbox_id), ignored);
}

Status PostgresAlerts::mark_failed(std::int64_t outbox_id, std::int64_t next_attempt_ms, const std::string& error) {
  PgResult ignored;
  return run_statement("fail_outbox", PgParams().int8(outbox_id).int8(next_attempt_ms).bytea(error), ignored);
}

Status PostgresAlerts::release_delivery(std::int64_t outbox_id) {
  PgResult ignored;
  return run_statement("release_outbox", PgParams().int8(outbox_id), ignored);
}

Status PostgresAlerts::outbox_depth(const std::string& sink, std::uint64_t& pending) {
  PgResult r;
  Status s = run_statement("outbox_depth", PgParams().bytea(sink), r);
  pending = s && r.rows() > 0 ? static_cast<std::uint64_t>(r.int_at(0, 0)) : 0;
  return s;
}

}  // namespace ipattrib::collector
