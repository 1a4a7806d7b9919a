// Reading alerts (list, get) and the delivery outbox of the SQLite store.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "collector/alerts/sqlite/sqlite_alert_statements.h"
#include "collector/alerts/sqlite/sqlite_alerts.h"

namespace ipattrib::collector {

std::string_view ip_bytes(const IpAddress& ip) {
  return std::string_view(reinterpret_cast<const char*>(ip.bytes().data()), ip.bytes().size());
}

int ip_family(const IpAddress& ip) { return ip.is_v4() ? 4 : 6; }

namespace {

IpAddress ip_from_columns(std::string_view bytes, std::int64_t family) {
  if (bytes.size() != 16) return IpAddress();
  const auto* b = reinterpret_cast<const std::uint8_t*>(bytes.data());
  return family == 4 ? IpAddress::from_v4_bytes(b + 12) : IpAddress::from_v6_bytes(b);
}

}  // namespace

Alert read_alert_row(const SqliteStatement& stmt) {
  Alert a;
  AlertHit& h = a.first_hit;
  a.id = stmt.column_int(0);
  h.measure_id = stmt.column_blob(1);
  h.measure_title = stmt.column_blob(2);
  h.severity = static_cast<Severity>(stmt.column_int(3));
  h.reason = stmt.column_blob(4);
  h.account = stmt.column_blob(5);
  h.ip = ip_from_columns(stmt.column_blob_view(6), stmt.column_int(7));
  h.access_class = static_cast<RecordClass>(stmt.column_int(8));
  h.geo.country = stmt.column_blob(9);
  h.geo.registered_country = stmt.column_blob(10);
  h.geo.subdivision = stmt.column_blob(11);
  h.geo.asn = static_cast<std::uint32_t>(stmt.column_int(12));
  h.geo.as_org = stmt.column_blob(13);
  h.geo.anonymizer_flags = static_cast<std::uint8_t>(stmt.column_int(14));
  h.geo.db_build_epoch = stmt.column_int(15);
  h.gateway = stmt.column_blob(16);
  h.first_access_ms = stmt.column_int(17);
  h.last_access_ms = stmt.column_int(18);
  h.count = static_cast<std::uint64_t>(stmt.column_int(19));
  a.last_access_ms = stmt.column_int(20);
  a.count = static_cast<std::uint64_t>(stmt.column_int(21));
  a.suppressed_hits = static_cast<std::uint64_t>(stmt.column_int(22));
  a.created_ms = stmt.column_int(23);
  a.updated_ms = stmt.column_int(24);
  a.state = static_cast<AlertState>(stmt.column_int(25));
  a.state_by = stmt.column_blob(26);
  a.state_changed_ms = stmt.column_int(27);
  a.state_note = stmt.column_blob(28);
  a.retroactive = stmt.column_int(29) != 0;
  return a;
}

Status SqliteAlerts::read_alerts(SqliteStatement& stmt, std::uint32_t limit, std::vector<Alert>& alerts, bool& more) {
  more = false;
  int rc = SQLITE_ROW;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    if (alerts.size() == limit) {
      more = true;
      rc = SQLITE_DONE;
      break;
    }
    alerts.push_back(read_alert_row(stmt));
  }
  Status s = rc == SQLITE_DONE ? Status::ok() : stmt.error("read alerts");
  stmt.reset();
  return s;
}

Status SqliteAlerts::list_alerts(const AlertQuery& query, std::vector<Alert>& alerts, bool& more) {
  alerts.clear();
  more = false;
  if (query.limit == 0) return Status::ok();
  std::lock_guard lock(reader_.mutex);
  SqliteStatement& q = query.account.empty() ? reader_.st->list_any : reader_.st->list_account;
  q.bind_int(1, query.before_id).bind_int(2, query.state ? static_cast<int>(*query.state) : -1);
  q.bind_int(3, static_cast<int>(query.min_severity.value_or(Severity::kInfo)));
  q.bind_blob(4, query.measure_id).bind_int(5, query.since_ms).bind_int(6, query.until_ms);
  q.bind_int(7, static_cast<std::int64_t>(query.limit) + 1);
  if (!query.account.empty()) q.bind_blob(8, query.account);
  return read_alerts(q, query.limit, alerts, more);
}

Status SqliteAlerts::get_alert_locked(Connection& connection, std::int64_t id, Alert& alert, bool& found) {
  SqliteStatement& q = connection.st->get_alert;
  q.bind_int(1, id);
  const int rc = q.step();
  found = rc == SQLITE_ROW;
  if (found) alert = read_alert_row(q);
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("get alert");
  q.reset();
  return s;
}

Status SqliteAlerts::get_alert(std::int64_t id, Alert& alert, bool& found) {
  std::lock_guard lock(reader_.mutex);
  return get_alert_locked(reader_, id, alert, found);
}

// The outbox is read and written on the writer connection: the delivery
// worker must see the rows record_hits() just committed, and a claim is a
// write anyway.
Status SqliteAlerts::claim_deliveries(const std::string& sink, std::int64_t now_ms, std::int64_t lease_ms,
                                      std::uint32_t limit, std::vector<OutboxEntry>& entries) {
  entries.clear();
  if (lease_ms <= 0) return Status::error("claim_deliveries: the lease must be positive");
  const std::int64_t until = now_ms > INT64_MAX - lease_ms ? INT64_MAX : now_ms + lease_ms;
  std::lock_guard lock(writer_.mutex);
  SqliteStatement& q = writer_.st->claim;
  q.bind_blob(1, sink).bind_int(2, now_ms).bind_int(3, until).bind_int(4, limit);
  int rc = SQLITE_ROW;
  while ((rc = q.step()) == SQLITE_ROW) {
    OutboxEntry e;
    e.id = q.column_int(0);
    e.alert_id = q.column_int(1);
    e.sink = q.column_blob(2);
    e.attempts = static_cast<std::uint32_t>(q.column_int(3));
    e.next_attempt_ms = q.column_int(4);
    e.leased_until_ms = q.column_int(5);
    e.last_error = q.column_blob(6);
    entries.push_back(std::move(e));
  }
  Status s = rc == SQLITE_DONE ? Status::ok() : q.error("claim deliveries");
  q.reset();
  if (!s) entries.clear();
  // RETURNING yields rows in no promised order.
  std::sort(entries.begin(), entries.end(), [](const OutboxEntry& a, const OutboxEntry& b) { return a.id < b.id; });
  return s;
}

Status SqliteAlerts::mark_delivered(std::int64_t outbox_id) {
  std::lock_guard lock(writer_.mutex);
  writer_.st->delete_outbox.bind_int(1, outbox_id);
  return writer_.st->delete_outbox.run();
}

Status SqliteAlerts::mark_failed(std::int64_t outbox_id, std::int64_t next_attempt_ms, const std::string& error) {
  std::lock_guard lock(writer_.mutex);
  writer_.st->fail_outbox.bind_int(1, outbox_id).bind_int(2, next_attempt_ms).bind_blob(3, error);
  return writer_.st->fail_outbox.run();
}

Status SqliteAlerts::release_delivery(std::int64_t outbox_id) {
  std::lock_guard lock(writer_.mutex);
  writer_.st->release_outbox.bind_int(1, outbox_id);
  return writer_.st->release_outbox.run();
}

Status SqliteAlerts::outbox_depth(const std::string& sink, std::uint64_t& pending) {
  std::lock_guard lock(writer_.mutex);
  SqliteStatement& q = writer_.st->outbox_depth;
  q.bind_blob(1, sink);
  const int rc = q.step();
  pending = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
  Status s = rc == SQLITE_ROW ? Status::ok() : q.error("outbox depth");
  q.reset();
  return s;
}

}  // namespace ipattrib::collector
