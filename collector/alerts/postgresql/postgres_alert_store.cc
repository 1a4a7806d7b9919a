// Opening the PostgreSQL alert store, its connection pool, and recording
// hits exactly once per agent batch with deduplication that holds when
// several collectors record hits of one key at once.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "collector/alerts/alert_store_rules.h"
#include "collector/alerts/postgresql/postgres_alert_schema.h"
#include "collector/alerts/postgresql/postgres_alert_statements.h"
#include "collector/alerts/postgresql/postgres_alerts.h"

namespace ipattrib::collector {
namespace {

// Deadlocks (two collectors' batches whose sequence rows and key locks
// cross) are resolved by PostgreSQL aborting one transaction; it runs again.
constexpr int kMaxAttempts = 5;

// The dedup lock of a (measure, account, ip), as the second key of a
// two-int advisory lock. Fields are length-prefixed so ("ab", "c") and
// ("a", "bc") differ; a collision between two keys only makes them wait for
// each other, never merges their alerts.
std::int32_t dedup_lock_key(const AlertHit& hit) {
  std::uint64_t h = 14695981039346656037ULL;
  const auto mix = [&](std::string_view bytes) {
    for (int shift = 0; shift < 32; shift += 8) {
      h = (h ^ ((bytes.size() >> shift) & 0xff)) * 1099511628211ULL;
    }
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  };
  mix(hit.measure_id);
  mix(hit.account);
  mix(std::string_view(reinterpret_cast<const char*>(hit.ip.bytes().data()), hit.ip.bytes().size()));
  mix(hit.ip.is_v4() ? "4" : "6");
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(h ^ (h >> 32)));
}

}  // namespace

class PostgresAlerts::ConnectionLease {
 public:
  explicit ConnectionLease(PostgresAlerts& store) : store_(store), connection_(store.acquire()) {}
  ~ConnectionLease() { store_.release(connection_); }
  PostgresConnection& operator*() const { return *connection_; }

 private:
  PostgresAlerts& store_;
  PostgresConnection* connection_;
};

Status open_postgres_alert_store(const PostgresAlertStoreOptions& options, std::unique_ptr<AlertStore>& store) {
  auto alerts = std::make_unique<PostgresAlerts>();
  if (Status s = alerts->open(options); !s) return s;
  store = std::move(alerts);
  return Status::ok();
}

Status PostgresAlerts::open(const PostgresAlertStoreOptions& options) {
  if (options.connections == 0) return Status::error("postgresql alert store needs at least one connection");
  options_ = options;
  for (std::uint32_t i = 0; i < options.connections; ++i) {
    auto c = std::make_unique<PostgresConnection>();
    if (Status s = c->connect(options.conninfo, options.password); !s) return s;
    // Migrate before preparing: statements name the tables.
    if (i == 0) {
      if (Status s = migrate_postgres_alerts(*c); !s) return s;
    }
    if (Status s = c->use_statements(postgres_alert_statements()); !s) return s;
    idle_.push_back(c.get());
    connections_.push_back(std::move(c));
  }
  return Status::ok();
}

PostgresConnection* PostgresAlerts::acquire() {
  std::unique_lock lock(pool_mutex_);
  pool_cv_.wait(lock, [&] { return !idle_.empty(); });
  PostgresConnection* c = idle_.back();
  idle_.pop_back();
  return c;
}

void PostgresAlerts::release(PostgresConnection* c) {
  {
    std::lock_guard lock(pool_mutex_);
    idle_.push_back(c);
  }
  pool_cv_.notify_one();
}

// A lost connection is retried on a new one. If what was lost was a COMMIT
// that did happen, the retry of record_hits finds the batch already
// evaluated; a single statement (a claim, a failed delivery) may have taken
// effect, which at worst delays an entry until its lease ends or counts an
// attempt twice.
Status PostgresAlerts::run(bool transaction, const Work& work) {
  ConnectionLease lease(*this);
  PostgresConnection& c = *lease;
  Status s;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    if (s = c.ensure_connected(); !s) return s;
    std::string sqlstate;
    if (transaction) {
      if (s = c.exec("BEGIN"); !s) {
        if (c.lost()) continue;  // the server went away since the last use: reconnect
        return s;
      }
    }
    s = work(c, sqlstate);
    if (s && transaction) s = c.exec("COMMIT", &sqlstate);
    if (s) return s;
    if (transaction) c.exec("ROLLBACK");
    if (!is_retryable_sqlstate(sqlstate) && !c.lost()) break;
  }
  return s;
}

Status PostgresAlerts::record_hits(const std::string& agent_id, std::uint64_t sequence,
                                   const std::vector<AlertHit>& hits, std::int64_t now_ms,
                                   std::int64_t dedup_window_ms, const std::vector<std::string>& sinks,
                                   RecordHitsResult& result) {
  result = RecordHitsResult{};
  if (Status s = validate_record_hits(agent_id, sequence, hits, dedup_window_ms, sinks); !s) return s;
  Status s = run(true, [&](PostgresConnection& c, std::string& sqlstate) {
    result = RecordHitsResult{};
    return record_in_transaction(c, agent_id, sequence, hits, now_ms, dedup_window_ms, sinks, result, sqlstate);
  });
  if (!s) result = RecordHitsResult{};
  return s;
}

// Deduplication across collectors: before looking for a key's recent alert,
// the transaction takes a transaction-level advisory lock on the key's hash,
// so of two collectors recording hits of one (measure, account, ip) the
// second waits until the first commits and then folds into the alert the
// first created. A unique index cannot express this: "one alert per key
// within the window" depends on the time of each hit (a unique partial index
// would need a fixed window bucket, so two hits a moment apart across a
// bucket boundary would raise two alerts, which the SQLite store never
// does). The lock costs nothing when keys differ and is released at commit.
Status PostgresAlerts::record_in_transaction(PostgresConnection& c, const std::string& agent_id,
                                             std::uint64_t sequence, const std::vector<AlertHit>& hits,
                                             std::int64_t now_ms, std::int64_t dedup_window_ms,
                                             const std::vector<std::string>& sinks, RecordHitsResult& result,
                                             std::string& sqlstate) {
  if (!agent_id.empty()) {
    PgResult claim;
    PgParams params;
    params.bytea(agent_id).int8(static_cast<std::int64_t>(sequence)).int8(now_ms);
    if (Status s = c.run("claim_sequence", params, claim, &sqlstate); !s) return s;
    if (claim.rows() == 0) {
      result.already_evaluated = true;
      return Status::ok();  // the empty transaction commits harmlessly
    }
  }
  if (hits.empty()) return Status::ok();
  std::vector<std::int32_t> keys;
  keys.reserve(hits.size());
  for (const AlertHit& hit : hits) keys.push_back(dedup_lock_key(hit));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  PgArray key_array;
  for (std::int32_t k : keys) key_array.add_int(k);
  if (Status s = c.run("lock_keys", PgParams().text(key_array.literal()), &sqlstate); !s) return s;

  PgArray sink_array;
  for (const std::string& sink : sinks) sink_array.add_bytea(sink);
  const std::string sinks_literal = sink_array.literal();
  for (const AlertHit& hit : hits) {
    if (Status s = record_hit(c, hit, now_ms, dedup_window_ms, sinks_literal, agent_id.empty(), result, sqlstate);
        !s) {
      return s;
    }
  }
  return Status::ok();
}

Status PostgresAlerts::record_hit(PostgresConnection& c, const AlertHit& hit, std::int64_t now_ms,
                                  std::int64_t dedup_window_ms, const std::string& sinks_array, bool retroactive,
                                  RecordHitsResult& result, std::string& sqlstate) {
  PgResult found;
  PgParams find;
  find.bytea(hit.measure_id).bytea(hit.account).inet(hit.ip).int8(dedup_window_start(now_ms, dedup_window_ms));
  if (Status s = c.run("find_recent", find, found, &sqlstate); !s) return s;
  if (found.rows() > 0) {
    PgParams fold;
    fold.int8(found.int_at(0, 0)).int8(static_cast<std::int64_t>(hit.count)).int8(hit.last_access_ms);
    fold.int8(now_ms).int8(hit.first_access_ms);
    if (Status s = c.run("fold_hit", fold, &sqlstate); !s) return s;
    ++result.hits_suppressed;
    return Status::ok();
  }

  PgParams ins;
  ins.bytea(hit.measure_id).bytea(hit.measure_title).int8(static_cast<int>(hit.severity)).bytea(hit.reason);
  ins.bytea(hit.account).inet(hit.ip).int8(static_cast<int>(hit.access_class));
  ins.bytea(hit.geo.country).bytea(hit.geo.registered_country).bytea(hit.geo.subdivision);
  ins.int8(hit.geo.asn).bytea(hit.geo.as_org).int8(hit.geo.anonymizer_flags).int8(hit.geo.db_build_epoch);
  ins.bytea(hit.gateway).int8(hit.first_access_ms).int8(hit.last_access_ms);
  ins.int8(static_cast<std::int64_t>(hit.count)).int8(now_ms).text(retroactive ? "true" : "false");
  PgResult inserted;
  if (Status s = c.run("insert_alert", ins, inserted, &sqlstate); !s) return s;
  if (inserted.rows() != 1) return Status::error("postgresql: insert_alert returned no id");
  const std::int64_t id = inserted.int_at(0, 0);
  if (sinks_array.size() > 2) {
    PgParams outbox;
    outbox.int8(id).text(sinks_array).int8(now_ms);
    if (Status s = c.run("insert_outbox", outbox, &sqlstate); !s) return s;
  }
  ++result.alerts_created;
  result.created_ids.push_back(id);
  return Status::ok();
}

// Session-level, so the lock outlives the many transactions of the scan; a
// collector that dies mid-scan loses its session and with it the lock.
Status PostgresAlerts::exclusive_scan(const std::function<Status()>& scan) {
  std::lock_guard lock(scan_mutex_);
  Status s = scan_lock_.raw() == nullptr ? scan_lock_.connect(options_.conninfo, options_.password)
                                         : scan_lock_.ensure_connected();
  const std::string take = fmt::format("SELECT pg_advisory_lock({})", kPgScanLockKey);
  if (s) s = scan_lock_.exec(take.c_str());
  if (!s && scan_lock_.lost()) {
    if (s = scan_lock_.ensure_connected(); s) s = scan_lock_.exec(take.c_str());
  }
  if (!s) return Status::error("taking the retroactive scan lock: " + s.message());
  s = scan();
  const std::string give = fmt::format("SELECT pg_advisory_unlock({})", kPgScanLockKey);
  scan_lock_.exec(give.c_str());  // if the session was lost, the lock went with it
  return s;
}

// Without a transaction: advance_state is one atomic statement, and when it
// changes nothing, the state read after it explains why.
Status PostgresAlerts::set_alert_state(std::int64_t id, AlertState state, const std::string& by,
                                       const std::string& note, std::int64_t now_ms, bool& found) {
  found = false;
  return run(false, [&](PostgresConnection& c, std::string& sqlstate) {
    PgResult advanced;
    PgParams params;
    params.int8(id).int8(static_cast<int>(state)).bytea(by).bytea(note).int8(now_ms);
    if (Status s = c.run("advance_state", params, advanced, &sqlstate); !s) return s;
    if (advanced.rows() > 0) {
      found = true;
      return Status::ok();
    }
    PgResult current;
    if (Status s = c.run("select_state", PgParams().int8(id), current, &sqlstate); !s) return s;
    found = current.rows() > 0;
    if (!found) return Status::ok();
    const auto now = static_cast<AlertState>(current.int_at(0, 0));
    if (state < now) {
      return Status::error(fmt::format("invalid transition: alert {} is {}; it cannot go back to {}", id,
                                       alert_state_name(now), alert_state_name(state)));
    }
    return Status::ok();  // the same state again changes nothing: the first to act stays on record
  });
}

}  // namespace ipattrib::collector
