// Opening the SQLite alert store and recording hits exactly once per agent
// batch, with deduplication and the outbox rows of every new alert.
#include <fmt/format.h>

#include <cstdint>
#include <utility>

#include "collector/alerts/alert_store_rules.h"
#include "collector/alerts/sqlite/sqlite_alert_schema.h"
#include "collector/alerts/sqlite/sqlite_alert_statements.h"
#include "collector/alerts/sqlite/sqlite_alerts.h"

namespace ipattrib::collector {

Status open_sqlite_alert_store(const SqliteAlertStoreOptions& options, std::unique_ptr<AlertStore>& store) {
  auto alerts = std::make_unique<SqliteAlerts>();
  if (Status s = alerts->open(options); !s) return s;
  store = std::move(alerts);
  return Status::ok();
}

SqliteAlerts::~SqliteAlerts() {
  for (Connection* c : {&reader_, &writer_}) {
    c->st.reset();  // statements must be finalised before the connection closes
    sqlite3_close(c->db);
  }
}

Status SqliteAlerts::open_connection(const SqliteAlertStoreOptions& options, Connection& connection) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(options.path.c_str(), &connection.db, flags, nullptr) != SQLITE_OK) {
    return Status::error(fmt::format("cannot open alert store {}: {}", options.path,
                                     connection.db != nullptr ? sqlite3_errmsg(connection.db) : "out of memory"));
  }
  sqlite3_busy_timeout(connection.db, static_cast<int>(options.busy_timeout_ms));
  sqlite3_extended_result_codes(connection.db, 1);
  return Status::ok();
}

Status SqliteAlerts::open(const SqliteAlertStoreOptions& options) {
  if (Status s = open_connection(options, writer_); !s) return s;
  // synchronous=FULL: an alert and its outbox rows are the only record that
  // a delivery is owed; a power loss must not forget one the ingest path
  // has already acknowledged.
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"}) {
    if (Status s = sqlite_exec(writer_.db, pragma); !s) {
      return Status::error(fmt::format("alert store {}: {}", options.path, s.message()));
    }
  }
  if (Status s = migrate_sqlite_alert_schema(writer_.db); !s) {
    return Status::error(fmt::format("alert store {}: {}", options.path, s.message()));
  }
  // The file is one collector's: claims still leased were this collector's
  // before it crashed or stopped, and nobody else will deliver them, so a
  // restart resumes them now instead of after the lease.
  if (Status s = sqlite_exec(writer_.db, "UPDATE alert_outbox SET leased_until_ms = 0 WHERE leased_until_ms <> 0");
      !s) {
    return Status::error(fmt::format("alert store {}: {}", options.path, s.message()));
  }
  if (Status s = open_connection(options, reader_); !s) return s;
  if (Status s = sqlite_exec(reader_.db, "PRAGMA query_only = ON"); !s) return s;
  if (Status s = prepare_statements(writer_); !s) return s;
  return prepare_statements(reader_);
}

Status SqliteAlerts::prepare_statements(Connection& connection) {
  connection.st = std::make_unique<Statements>();
  Statements& st = *connection.st;
  const std::string select = fmt::format("SELECT {} FROM alerts ", kAlertColumns);
  const std::string list_filters =
      "WHERE id < ?1 AND (?2 < 0 OR state = ?2) AND severity <= ?3 AND (length(?4) = 0 OR measure_id = ?4) "
      "AND created_ms >= ?5 AND created_ms <= ?6 ";
  const std::pair<SqliteStatement*, std::string> all[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.select_sequence, "SELECT highest_sequence FROM alert_sequences WHERE agent_id = ?1"},
      {&st.upsert_sequence,
       "INSERT INTO alert_sequences (agent_id, highest_sequence, updated_ms) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (agent_id) DO UPDATE SET highest_sequence = excluded.highest_sequence, "
       "updated_ms = excluded.updated_ms"},
      {&st.find_recent,
       "SELECT id FROM alerts WHERE measure_id = ?1 AND account = ?2 AND ip = ?3 AND ip_family = ?4 "
       "AND created_ms > ?5 ORDER BY created_ms DESC, id DESC LIMIT 1"},
      {&st.fold_hit,
       "UPDATE alerts SET access_count = access_count + ?2, last_access_ms = max(last_access_ms, ?3), "
       "first_access_ms = min(first_access_ms, ?5), suppressed_hits = suppressed_hits + 1, updated_ms = ?4 "
       "WHERE id = ?1"},
      {&st.insert_alert,
       "INSERT INTO alerts (measure_id, measure_title, severity, reason, account, ip, ip_family, access_class, "
       "country, registered_country, subdivision, asn, as_org, anonymizer_flags, db_build_epoch, gateway, "
       "first_access_ms, hit_last_access_ms, hit_count, last_access_ms, access_count, suppressed_hits, created_ms, "
       "updated_ms, state, state_by, state_changed_ms, state_note, retroactive) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
       "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?18, ?19, 0, ?20, ?20, 0, x'', 0, x'', ?21)"},
      {&st.insert_outbox,
       "INSERT INTO alert_outbox (alert_id, sink, attempts, next_attempt_ms, last_error) VALUES (?1, ?2, 0, ?3, x'')"},
      {&st.get_alert, select + "WHERE id = ?1"},
      {&st.list_any, select + list_filters + "ORDER BY id DESC LIMIT ?7"},
      // Its own statement so the planner can walk alerts_by_account.
      {&st.list_account, select + list_filters + "AND account = ?8 ORDER BY id DESC LIMIT ?7"},
      {&st.select_state, "SELECT state FROM alerts WHERE id = ?1"},
      {&st.update_state,
       "UPDATE alerts SET state = ?2, state_by = ?3, state_note = ?4, state_changed_ms = ?5, updated_ms = ?5 "
       "WHERE id = ?1"},
      // One statement, so claimers in other processes on the same file see
      // a row either unleased or leased, never both taking it.
      {&st.claim,
       "UPDATE alert_outbox SET leased_until_ms = ?3 WHERE id IN (SELECT id FROM alert_outbox "
       "WHERE sink = ?1 AND next_attempt_ms <= ?2 AND leased_until_ms <= ?2 ORDER BY id LIMIT ?4) "
       "RETURNING id, alert_id, sink, attempts, next_attempt_ms, leased_until_ms, last_error"},
      {&st.delete_outbox, "DELETE FROM alert_outbox WHERE id = ?1"},
      {&st.fail_outbox,
       "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3, leased_until_ms = 0 "
       "WHERE id = ?1"},
      {&st.release_outbox, "UPDATE alert_outbox SET leased_until_ms = 0 WHERE id = ?1"},
      {&st.outbox_depth, "SELECT count(*) FROM alert_outbox WHERE sink = ?1"},
  };
  for (const auto& [stmt, sql] : all) {
    if (Status s = stmt->prepare(connection.db, sql); !s) return s;
  }
  return Status::ok();
}

Status SqliteAlerts::evaluated_sequence(const std::string& agent_id, std::uint64_t& sequence) {
  std::lock_guard lock(writer_.mutex);
  SqliteStatement& q = writer_.st->select_sequence;
  q.bind_blob(1, agent_id);
  const int rc = q.step();
  sequence = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("evaluated_sequence");
  q.reset();
  return s;
}

Status SqliteAlerts::record_hits(const std::string& agent_id, std::uint64_t sequence, const std::vector<AlertHit>& hits,
                                 std::int64_t now_ms, std::int64_t dedup_window_ms,
                                 const std::vector<std::string>& sinks, RecordHitsResult& result) {
  result = RecordHitsResult{};
  if (Status s = validate_record_hits(agent_id, sequence, hits, dedup_window_ms, sinks); !s) return s;
  std::lock_guard lock(writer_.mutex);
  if (Status s = writer_.st->begin.run(); !s) return s;
  Status s = record_in_transaction(agent_id, sequence, hits, now_ms, dedup_window_ms, sinks, result);
  if (s) s = writer_.st->commit.run();
  if (!s) {
    writer_.st->rollback.run();
    result = RecordHitsResult{};
  }
  return s;
}

Status SqliteAlerts::record_in_transaction(const std::string& agent_id, std::uint64_t sequence,
                                           const std::vector<AlertHit>& hits, std::int64_t now_ms,
                                           std::int64_t dedup_window_ms, const std::vector<std::string>& sinks,
                                           RecordHitsResult& result) {
  Statements& st = *writer_.st;
  if (!agent_id.empty()) {
    SqliteStatement& q = st.select_sequence;
    q.bind_blob(1, agent_id);
    const int rc = q.step();
    const std::uint64_t highest = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
    Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("select sequence");
    q.reset();
    if (!s) return s;
    if (sequence <= highest) {
      result.already_evaluated = true;
      return Status::ok();
    }
    st.upsert_sequence.bind_blob(1, agent_id).bind_int(2, static_cast<std::int64_t>(sequence)).bind_int(3, now_ms);
    if (Status u = st.upsert_sequence.run(); !u) return u;
  }
  for (const AlertHit& hit : hits) {
    if (Status s = record_hit(hit, now_ms, dedup_window_ms, sinks, agent_id.empty(), result); !s) return s;
  }
  return Status::ok();
}

Status SqliteAlerts::record_hit(const AlertHit& hit, std::int64_t now_ms, std::int64_t dedup_window_ms,
                                const std::vector<std::string>& sinks, bool retroactive,
                                RecordHitsResult& result) {
  Statements& st = *writer_.st;
  const std::int64_t window_start = dedup_window_start(now_ms, dedup_window_ms);
  SqliteStatement& find = st.find_recent;
  find.bind_blob(1, hit.measure_id).bind_blob(2, hit.account).bind_blob(3, ip_bytes(hit.ip));
  find.bind_int(4, ip_family(hit.ip)).bind_int(5, window_start);
  const int rc = find.step();
  const std::int64_t existing = rc == SQLITE_ROW ? find.column_int(0) : 0;
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : find.error("find recent alert");
  find.reset();
  if (!s) return s;

  if (existing != 0) {
    st.fold_hit.bind_int(1, existing).bind_int(2, static_cast<std::int64_t>(hit.count));
    st.fold_hit.bind_int(3, hit.last_access_ms).bind_int(4, now_ms).bind_int(5, hit.first_access_ms);
    if (Status f = st.fold_hit.run(); !f) return f;
    ++result.hits_suppressed;
    return Status::ok();
  }

  SqliteStatement& ins = st.insert_alert;
  ins.bind_blob(1, hit.measure_id).bind_blob(2, hit.measure_title).bind_int(3, static_cast<int>(hit.severity));
  ins.bind_blob(4, hit.reason).bind_blob(5, hit.account).bind_blob(6, ip_bytes(hit.ip));
  ins.bind_int(7, ip_family(hit.ip)).bind_int(8, static_cast<int>(hit.access_class));
  ins.bind_blob(9, hit.geo.country).bind_blob(10, hit.geo.registered_country).bind_blob(11, hit.geo.subdivision);
  ins.bind_int(12, hit.geo.asn).bind_blob(13, hit.geo.as_org).bind_int(14, hit.geo.anonymizer_flags);
  ins.bind_int(15, hit.geo.db_build_epoch).bind_blob(16, hit.gateway).bind_int(17, hit.first_access_ms);
  ins.bind_int(18, hit.last_access_ms).bind_int(19, static_cast<std::int64_t>(hit.count)).bind_int(20, now_ms);
  ins.bind_int(21, retroactive ? 1 : 0);
  if (Status i = ins.run(); !i) return i;
  const std::int64_t id = sqlite3_last_insert_rowid(writer_.db);
  for (const std::string& sink : sinks) {
    st.insert_outbox.bind_int(1, id).bind_blob(2, sink).bind_int(3, now_ms);
    if (Status o = st.insert_outbox.run(); !o) return o;
  }
  ++result.alerts_created;
  result.created_ids.push_back(id);
  return Status::ok();
}

Status SqliteAlerts::set_alert_state(std::int64_t id, AlertState state, const std::string& by, const std::string& note,
                                     std::int64_t now_ms, bool& found) {
  found = false;
  std::lock_guard lock(writer_.mutex);
  Statements& st = *writer_.st;
  if (Status s = st.begin.run(); !s) return s;
  SqliteStatement& q = st.select_state;
  q.bind_int(1, id);
  const int rc = q.step();
  const bool exists = rc == SQLITE_ROW;
  const auto current = exists ? static_cast<AlertState>(q.column_int(0)) : AlertState::kOpen;
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("select alert state");
  q.reset();
  if (s && exists && state < current) {
    s = Status::error(fmt::format("invalid transition: alert {} is {}; it cannot go back to {}", id,
                                  alert_state_name(current), alert_state_name(state)));
  }
  // The same state again changes nothing: the first to act stays on record.
  if (s && exists && state > current) {
    st.update_state.bind_int(1, id).bind_int(2, static_cast<int>(state)).bind_blob(3, by).bind_blob(4, note);
    st.update_state.bind_int(5, now_ms);
    s = st.update_state.run();
  }
  if (s) s = st.commit.run();
  if (!s) {
    st.rollback.run();
    return s;
  }
  found = exists;
  return Status::ok();
}

}  // namespace ipattrib::collector
