// Opening, exactly-once batch application and retention of the SQLite ledger.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/ledger_store_rules.h"
#include "collector/ledger/sqlite/sqlite_ledger.h"
#include "collector/ledger/sqlite/sqlite_ledger_statements.h"
#include "collector/ledger/sqlite/sqlite_schema.h"

namespace ipattrib::collector {
namespace {

constexpr const char* kGeoColumns[] = {"country", "registered_country", "subdivision",   "asn",
                                       "as_org",  "anonymizer_flags",   "db_build_epoch"};

// Insert a new summary, or fold the record into the existing one: geo at
// first sight changes only for an earlier record, geo at last sight only for
// a later one (records of several agents arrive in any order).
std::string upsert_summary_sql() {
  std::string sql =
      "INSERT INTO summaries (account, ip, ip_family, access_class, ip_source, first_seen_ms, last_seen_ms, "
      "access_count, f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, "
      "f_db_build_epoch, l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, "
      "l_db_build_epoch, last_principal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT (account, ip, ip_family, access_class) DO UPDATE SET "
      "access_count = access_count + excluded.access_count";
  for (const char* c : kGeoColumns) {
    sql +=
        fmt::format(", f_{0} = CASE WHEN excluded.first_seen_ms < first_seen_ms THEN excluded.f_{0} ELSE f_{0} END", c);
    sql +=
        fmt::format(", l_{0} = CASE WHEN excluded.last_seen_ms >= last_seen_ms THEN excluded.l_{0} ELSE l_{0} END", c);
  }
  sql +=
      ", ip_source = CASE WHEN excluded.last_seen_ms >= last_seen_ms THEN excluded.ip_source ELSE ip_source END"
      ", last_principal = CASE WHEN excluded.last_seen_ms >= last_seen_ms AND length(excluded.last_principal) > 0 "
      "THEN excluded.last_principal ELSE last_principal END"
      ", first_seen_ms = min(first_seen_ms, excluded.first_seen_ms)"
      ", last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)"
      " RETURNING id, access_count";
  return sql;
}


std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status open_sqlite_ledger_store(const SqliteLedgerOptions& options, std::unique_ptr<LedgerStore>& store) {
  auto ledger = std::make_unique<SqliteLedger>();
  if (Status s = ledger->open(options); !s) return s;
  store = std::move(ledger);
  return Status::ok();
}

SqliteLedger::~SqliteLedger() {
  for (Connection* c : {&reader_, &writer_}) {
    c->st.reset();  // statements must be finalised before the connection closes
    sqlite3_close(c->db);
  }
}

Status SqliteLedger::open_connection(const SqliteLedgerOptions& options, Connection& connection) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(options.path.c_str(), &connection.db, flags, nullptr) != SQLITE_OK) {
    return Status::error(fmt::format("cannot open ledger {}: {}", options.path,
                                     connection.db != nullptr ? sqlite3_errmsg(connection.db) : "out of memory"));
  }
  sqlite3_busy_timeout(connection.db, static_cast<int>(options.busy_timeout_ms));
  sqlite3_extended_result_codes(connection.db, 1);
  return Status::ok();
}

Status SqliteLedger::open(const SqliteLedgerOptions& options) {
  if (Status s = open_connection(options, writer_); !s) return s;
  sqlite3* db = writer_.db;
  // WAL: readers do not block the writer. synchronous=FULL: in WAL mode
  // NORMAL skips the fsync at commit, so a power loss could drop the last
  // committed batches — batches the agent has already seen acknowledged and
  // deleted from its spool. FULL fsyncs the WAL on every commit; with one
  // commit per agent batch that costs little.
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = OFF"}) {
    if (Status s = sqlite_exec(db, pragma); !s) {
      return Status::error(fmt::format("ledger {}: {}", options.path, s.message()));
    }
  }
  if (Status s = migrate_sqlite_ledger(db); !s) {
    return Status::error(fmt::format("ledger {}: {}", options.path, s.message()));
  }
  if (Status s = open_connection(options, reader_); !s) return s;
  if (Status s = sqlite_exec(reader_.db, "PRAGMA query_only = ON"); !s) return s;
  if (Status s = prepare_statements(writer_); !s) return s;
  return prepare_statements(reader_);
}

// Both connections prepare every statement; each uses only its own kind.
Status SqliteLedger::prepare_statements(Connection& connection) {
  connection.st = std::make_unique<Statements>();
  Statements& st = *connection.st;
  const std::string summary_select = fmt::format("SELECT {} FROM summaries ", kSummaryColumns);
  const std::pair<SqliteStatement*, std::string> all[] = {
      {&st.begin, "BEGIN IMMEDIATE"},
      {&st.commit, "COMMIT"},
      {&st.rollback, "ROLLBACK"},
      {&st.select_sequence, "SELECT highest_sequence FROM agent_sequences WHERE agent_id = ?1"},
      {&st.upsert_sequence,
       "INSERT INTO agent_sequences (agent_id, highest_sequence, updated_ms) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (agent_id) DO UPDATE SET highest_sequence = excluded.highest_sequence, "
       "updated_ms = excluded.updated_ms"},
      {&st.upsert_summary, upsert_summary_sql()},
      {&st.insert_summary_gateway, "INSERT OR IGNORE INTO summary_gateways (summary_id, gateway_id) VALUES (?1, ?2)"},
      {&st.select_open_chunk,
       "SELECT id, first_ms, last_ms, n FROM access_chunks WHERE summary_id = ?1 AND gateway_id = ?2 "
       "AND first_ms >= ?3 ORDER BY first_ms DESC LIMIT 1"},
      // || yields TEXT, whose length() stops at a NUL byte: cast back to BLOB.
      {&st.append_chunk,
       "UPDATE access_chunks SET times = CAST(times || ?2 AS BLOB), last_ms = ?3, n = n + ?4 WHERE id = ?1"},
      {&st.insert_chunk,
       "INSERT INTO access_chunks (summary_id, gateway_id, first_ms, last_ms, n, times) VALUES (?1, ?2, ?3, ?4, ?5, "
       "?6)"},
      {&st.select_gateway_id, "SELECT id FROM gateways WHERE name = ?1"},
      {&st.insert_gateway, "INSERT INTO gateways (name) VALUES (?1)"},
      {&st.select_gateway_name, "SELECT name FROM gateways WHERE id = ?1"},
      {&st.account_exists, "SELECT 1 FROM summaries WHERE account = ?1 LIMIT 1"},
      {&st.account_ips,
       summary_select +
           "WHERE account = ?1 AND last_seen_ms >= ?2 AND first_seen_ms <= ?3 AND (?4 < 0 OR access_class = ?4) "
           "AND (length(?5) = 0 OR f_country = ?5 OR l_country = ?5) "
           "ORDER BY ip, ip_family, access_class LIMIT ?6 OFFSET ?7"},
      {&st.network_accounts,
       summary_select + "WHERE ip >= ?1 AND ip <= ?2 AND ip_family = ?3 AND last_seen_ms >= ?4 AND first_seen_ms <= ?5 "
                        "ORDER BY ip, account, access_class LIMIT ?6 OFFSET ?7"},
      {&st.summary_gateway_names,
       "SELECT g.name FROM summary_gateways AS sg JOIN gateways AS g ON g.id = sg.gateway_id "
       "WHERE sg.summary_id = ?1 ORDER BY g.name"},
      {&st.account_summaries,
       "SELECT id, ip, ip_family, access_class FROM summaries WHERE account = ?1 "
       "AND (?2 < 0 OR (ip = ?3 AND ip_family = ?2)) AND (?4 < 0 OR access_class = ?4) "
       "AND last_seen_ms >= ?5 AND first_seen_ms <= ?6"},
      // Keyset paging on the UNIQUE (account, ip, ip_family, access_class)
      // index: every page is one index seek, however far into the ledger.
      {&st.scan_summaries,
       summary_select +
           "WHERE (account, ip, ip_family, access_class) > (?1, ?2, ?3, ?4) "
           "ORDER BY account, ip, ip_family, access_class LIMIT ?5"},
      {&st.summary_chunks,
       "SELECT gateway_id, first_ms, n, times FROM access_chunks WHERE summary_id = ?1 AND first_ms >= ?2 "
       "AND first_ms <= ?3 AND last_ms >= ?4 ORDER BY first_ms"},
      {&st.old_chunk_totals, "SELECT count(*), coalesce(sum(n), 0) FROM access_chunks WHERE last_ms < ?1"},
      {&st.delete_old_chunks, "DELETE FROM access_chunks WHERE last_ms < ?1"},
      {&st.straddling_chunks, "SELECT id, first_ms, n, times FROM access_chunks WHERE first_ms < ?1 AND last_ms >= ?1"},
      {&st.rewrite_chunk, "UPDATE access_chunks SET first_ms = ?2, n = ?3, times = ?4 WHERE id = ?1"},
      {&st.delete_old_summary_gateways,
       "DELETE FROM summary_gateways WHERE summary_id IN (SELECT id FROM summaries WHERE last_seen_ms < ?1)"},
      {&st.delete_old_summaries, "DELETE FROM summaries WHERE last_seen_ms < ?1"},
  };
  for (const auto& [stmt, sql] : all) {
    if (Status s = stmt->prepare(connection.db, sql); !s) return s;
  }
  return Status::ok();
}

Status SqliteLedger::highest_sequence(const std::string& agent_id, std::uint64_t& sequence) {
  std::lock_guard lock(reader_.mutex);
  SqliteStatement& q = reader_.st->select_sequence;
  q.bind_blob(1, agent_id);
  const int rc = q.step();
  sequence = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("highest_sequence");
  q.reset();
  return s;
}

Status SqliteLedger::apply_batch(const RecordBatch& batch, ApplyResult& result) {
  result = ApplyResult{};
  if (Status s = validate_batch(batch); !s) return s;
  std::lock_guard lock(writer_.mutex);
  if (Status s = writer_.st->begin.run(); !s) return s;
  Status s = apply_in_transaction(batch, result);
  if (s) s = writer_.st->commit.run();
  if (!s) {
    writer_.st->rollback.run();
    gateway_ids_.clear();
    gateway_names_.clear();
    result = ApplyResult{};
  }
  return s;
}

Status SqliteLedger::apply_in_transaction(const RecordBatch& batch, ApplyResult& result) {
  SqliteStatement& q = writer_.st->select_sequence;
  q.bind_blob(1, batch.agent_id);
  const int rc = q.step();
  const std::uint64_t highest = rc == SQLITE_ROW ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
  q.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.error("reading agent sequence");
  if (batch.sequence <= highest) {
    result.duplicate = true;
    return Status::ok();  // the empty transaction commits harmlessly
  }
  std::vector<std::int64_t> sorted;
  for (const AttributionRecord& record : batch.records) {
    std::span<const std::int64_t> times = record.access_times_ms;
    if (!std::is_sorted(times.begin(), times.end())) {
      sorted.assign(times.begin(), times.end());
      std::sort(sorted.begin(), sorted.end());
      times = sorted;
    }
    if (Status s = apply_record(record, times, result); !s) return s;
  }
  writer_.st->upsert_sequence.bind_blob(1, batch.agent_id)
      .bind_int(2, static_cast<std::int64_t>(batch.sequence))
      .bind_int(3, now_ms());
  return writer_.st->upsert_sequence.run();
}

Status SqliteLedger::apply_record(const AttributionRecord& record, std::span<const std::int64_t> times,
                                  ApplyResult& result) {
  std::int64_t gateway = 0;
  if (Status s = gateway_id(record.gateway, gateway); !s) return s;
  const auto& ip = record.client_ip.bytes();
  const RecordGeo& geo = record.geo;
  SqliteStatement& u = writer_.st->upsert_summary;
  u.bind_blob(1, record.account)
      .bind_blob(2, std::string_view(reinterpret_cast<const char*>(ip.data()), ip.size()))
      .bind_int(3, ip_family_of(record.client_ip))
      .bind_int(4, static_cast<int>(record.access_class))
      .bind_int(5, static_cast<int>(record.ip_source))
      .bind_int(6, times.front())
      .bind_int(7, times.back())
      .bind_int(8, static_cast<std::int64_t>(times.size()))
      .bind_blob(9, geo.country)
      .bind_blob(10, geo.registered_country)
      .bind_blob(11, geo.subdivision)
      .bind_int(12, geo.asn)
      .bind_blob(13, geo.as_org)
      .bind_int(14, geo.anonymizer_flags)
      .bind_int(15, geo.db_build_epoch)
      .bind_blob(16, record.principal);
  if (u.step() != SQLITE_ROW) {
    Status s = u.error("upserting summary");
    u.reset();
    return s;
  }
  const std::int64_t summary_id = u.column_int(0);
  // An existing summary had at least one access before this record's.
  const bool created = static_cast<std::size_t>(u.column_int(1)) == times.size();
  u.reset();
  result.summaries_created += created ? 1 : 0;
  writer_.st->insert_summary_gateway.bind_int(1, summary_id).bind_int(2, gateway);
  if (Status s = writer_.st->insert_summary_gateway.run(); !s) return s;
  if (Status s = append_times(summary_id, created, gateway, times); !s) return s;
  result.records_applied += 1;
  result.accesses_applied += times.size();
  return Status::ok();
}

// The chunk new times for (summary, gateway) could extend: the latest one
// that started within a chunk span of them.
Status SqliteLedger::find_open_chunk(std::int64_t summary_id, std::int64_t gateway_id, std::int64_t first_new_ms,
                                     OpenChunk& chunk, bool& found) {
  SqliteStatement& q = writer_.st->select_open_chunk;
  q.bind_int(1, summary_id).bind_int(2, gateway_id).bind_int(3, saturating_sub(first_new_ms, kMaxChunkSpanMs));
  const int rc = q.step();
  found = rc == SQLITE_ROW;
  if (found)
    chunk = OpenChunk{q.column_int(0), gateway_id, q.column_int(1), q.column_int(2),
                      static_cast<std::uint64_t>(q.column_int(3))};
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("reading chunk");
  q.reset();
  return s;
}

// Extends the latest chunk of (summary, gateway) when the times continue it
// (not earlier, within the chunk bounds); otherwise starts chunks. Chunks are
// per gateway because a chunk stores one gateway for all its times.
Status SqliteLedger::append_times(std::int64_t summary_id, bool new_summary, std::int64_t gateway_id,
                                  std::span<const std::int64_t> times) {
  std::string bytes;
  OpenChunk open;
  bool found = false;
  if (!new_summary) {
    if (Status s = find_open_chunk(summary_id, gateway_id, times.front(), open, found); !s) return s;
  }
  if (found && times.front() >= open.last_ms) {
    std::size_t take = 0;
    while (take < times.size() && open.count + take < kMaxChunkAccesses &&
           times[take] - open.first_ms <= kMaxChunkSpanMs) {
      ++take;
    }
    if (take > 0) {
      encode_access_times(open.last_ms, times.first(take), bytes);
      writer_.st->append_chunk.bind_int(1, open.id)
          .bind_blob(2, bytes)
          .bind_int(3, times[take - 1])
          .bind_int(4, static_cast<std::int64_t>(take));
      if (Status s = writer_.st->append_chunk.run(); !s) return s;
      times = times.subspan(take);
    }
  }
  while (!times.empty()) {
    std::size_t take = 1;
    while (take < times.size() && take < kMaxChunkAccesses && times[take] - times.front() <= kMaxChunkSpanMs) ++take;
    bytes.clear();
    encode_access_times(times.front(), times.first(take), bytes);
    writer_.st->insert_chunk.bind_int(1, summary_id)
        .bind_int(2, gateway_id)
        .bind_int(3, times.front())
        .bind_int(4, times[take - 1])
        .bind_int(5, static_cast<std::int64_t>(take))
        .bind_blob(6, bytes);
    if (Status s = writer_.st->insert_chunk.run(); !s) return s;
    times = times.subspan(take);
  }
  return Status::ok();
}

Status SqliteLedger::gateway_id(const std::string& name, std::int64_t& id) {
  if (auto it = gateway_ids_.find(name); it != gateway_ids_.end()) {
    id = it->second;
    return Status::ok();
  }
  SqliteStatement& q = writer_.st->select_gateway_id;
  q.bind_blob(1, name);
  const int rc = q.step();
  id = rc == SQLITE_ROW ? q.column_int(0) : 0;
  q.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.error("reading gateway");
  if (rc == SQLITE_DONE) {
    writer_.st->insert_gateway.bind_blob(1, name);
    if (Status s = writer_.st->insert_gateway.run(); !s) return s;
    id = sqlite3_last_insert_rowid(writer_.db);
  }
  gateway_ids_.emplace(name, id);
  return Status::ok();
}

Status SqliteLedger::apply_retention(std::int64_t cutoff_ms, RetentionResult& result) {
  result = RetentionResult{};
  std::lock_guard lock(writer_.mutex);
  if (Status s = writer_.st->begin.run(); !s) return s;
  Status s;
  SqliteStatement& totals = writer_.st->old_chunk_totals;
  totals.bind_int(1, cutoff_ms);
  if (totals.step() == SQLITE_ROW) {
    result.accesses_deleted = static_cast<std::uint64_t>(totals.column_int(1));
  } else {
    s = totals.error("counting old accesses");
  }
  totals.reset();
  if (s) {
    writer_.st->delete_old_chunks.bind_int(1, cutoff_ms);
    s = writer_.st->delete_old_chunks.run();
  }
  if (s) s = trim_straddling_chunks(cutoff_ms, result);
  if (s) {
    writer_.st->delete_old_summary_gateways.bind_int(1, cutoff_ms);
    s = writer_.st->delete_old_summary_gateways.run();
  }
  if (s) {
    writer_.st->delete_old_summaries.bind_int(1, cutoff_ms);
    s = writer_.st->delete_old_summaries.run();
    result.summaries_deleted = static_cast<std::uint64_t>(sqlite3_changes64(writer_.db));
  }
  if (s) s = writer_.st->commit.run();
  if (!s) {
    writer_.st->rollback.run();
    result = RetentionResult{};
  }
  return s;
}

// A chunk holding times on both sides of the cutoff keeps only the newer ones.
Status SqliteLedger::trim_straddling_chunks(std::int64_t cutoff_ms, RetentionResult& result) {
  struct Trimmed {
    std::int64_t id, first_ms;
    std::uint64_t n;
    std::string bytes;
  };
  std::vector<Trimmed> rewrites;
  SqliteStatement& q = writer_.st->straddling_chunks;
  q.bind_int(1, cutoff_ms);
  std::vector<std::int64_t> times;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    times.clear();
    const std::int64_t id = q.column_int(0);
    const std::uint64_t n = static_cast<std::uint64_t>(q.column_int(2));
    if (!decode_access_times(q.column_int(1), q.column_blob_view(3), n, times)) {
      q.reset();
      return Status::error(fmt::format("ledger access chunk {} is corrupt", id));
    }
    const auto keep = std::lower_bound(times.begin(), times.end(), cutoff_ms);
    Trimmed t{id, *keep, static_cast<std::uint64_t>(times.end() - keep), {}};
    encode_access_times(*keep, std::span<const std::int64_t>(&*keep, t.n), t.bytes);
    result.accesses_deleted += n - t.n;
    rewrites.push_back(std::move(t));
  }
  Status s = rc == SQLITE_DONE ? Status::ok() : q.error("reading chunks at the cutoff");
  q.reset();
  for (const Trimmed& t : rewrites) {
    if (!s) break;
    writer_.st->rewrite_chunk.bind_int(1, t.id)
        .bind_int(2, t.first_ms)
        .bind_int(3, static_cast<std::int64_t>(t.n))
        .bind_blob(4, t.bytes);
    s = writer_.st->rewrite_chunk.run();
  }
  return s;
}

}  // namespace ipattrib::collector
