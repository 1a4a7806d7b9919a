// Opening, exactly-once batch application and retention of the PostgreSQL
// ledger.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/ledger_store_rules.h"
#include "collector/ledger/postgresql/postgres_chunk_months.h"
#include "collector/ledger/postgresql/postgres_ledger.h"
#include "collector/ledger/postgresql/postgres_ledger_statements.h"
#include "collector/ledger/postgresql/postgres_schema.h"

namespace ipattrib::collector {
namespace {

// Deadlocks between collectors (two batches locking the same summaries in
// another order across rounds, retention against ingest) are resolved by
// PostgreSQL aborting one transaction; it is simply run again.
constexpr int kMaxAttempts = 5;

// "no partition of relation found for row": a month partition this store
// believed in was dropped by another collector's retention.
constexpr std::string_view kNoPartitionSqlstate = "23514";
// Retention's partition drop waits at most this long for ingest to let go
// of the chunk table; past it the row path does the deleting this time.
constexpr const char kDropLockTimeout[] = "SET LOCAL lock_timeout = '5s'";
constexpr std::string_view kLockTimeoutSqlstate = "55P03";

using SummaryKey = std::tuple<std::string_view, IpAddress, int>;

SummaryKey key_of(const AttributionRecord& r) { return {r.account, r.client_ip, static_cast<int>(r.access_class)}; }

struct OpenChunk {
  std::int64_t id = 0;
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
  std::uint64_t count = 0;
};

}  // namespace

// Records of a batch with distinct (account, ip, class) keys, in key order.
// A batch holding one key twice is applied in several rounds, in arrival
// order, so each summary folds its records exactly as the SQLite store does.
struct PostgresLedger::Round {
  std::vector<const AttributionRecord*> records;
  std::vector<std::vector<std::int64_t>> times;  // sorted, per record
};

class PostgresLedger::WriterLease {
 public:
  explicit WriterLease(PostgresLedger& ledger) : ledger_(ledger), connection_(ledger.acquire_writer()) {}
  ~WriterLease() { ledger_.release_writer(connection_); }
  PostgresConnection& operator*() const { return *connection_; }

 private:
  PostgresLedger& ledger_;
  PostgresConnection* connection_;
};

Status open_postgres_ledger_store(const PostgresLedgerOptions& options, std::unique_ptr<LedgerStore>& store) {
  auto ledger = std::make_unique<PostgresLedger>();
  if (Status s = ledger->open(options); !s) return s;
  store = std::move(ledger);
  return Status::ok();
}

Status PostgresLedger::open(const PostgresLedgerOptions& options) {
  if (options.write_connections == 0) return Status::error("postgresql ledger needs at least one write connection");
  // Migrate before preparing: statements name the tables.
  if (Status s = reader_.connect(options.conninfo, options.password); !s) return s;
  if (Status s = migrate_postgres_ledger(reader_); !s) return s;
  if (Status s = reader_.use_statements(postgres_ledger_statements()); !s) return s;
  for (std::uint32_t i = 0; i < options.write_connections; ++i) {
    auto c = std::make_unique<PostgresConnection>();
    if (Status s = c->connect(options.conninfo, options.password); !s) return s;
    if (Status s = c->use_statements(postgres_ledger_statements()); !s) return s;
    idle_writers_.push_back(c.get());
    writers_.push_back(std::move(c));
  }
  return Status::ok();
}

PostgresConnection* PostgresLedger::acquire_writer() {
  std::unique_lock lock(pool_mutex_);
  pool_cv_.wait(lock, [&] { return !idle_writers_.empty(); });
  PostgresConnection* c = idle_writers_.back();
  idle_writers_.pop_back();
  return c;
}

void PostgresLedger::release_writer(PostgresConnection* c) {
  {
    std::lock_guard lock(pool_mutex_);
    idle_writers_.push_back(c);
  }
  pool_cv_.notify_one();
}

Status PostgresLedger::highest_sequence(const std::string& agent_id, std::uint64_t& sequence) {
  return read_with_reconnect([&] {
    PgResult r;
    if (Status s = reader_.run("select_sequence", PgParams().bytea(agent_id), r); !s) return s;
    sequence = r.rows() > 0 ? static_cast<std::uint64_t>(r.int_at(0, 0)) : 0;
    return Status::ok();
  });
}

// Gateway ids are created outside the batch's transaction (committed at
// once, never deleted), so batches of several collectors never wait on each
// other's new gateway rows.
Status PostgresLedger::resolve_gateways(PostgresConnection& c, const RecordBatch& batch) {
  PgArray missing;
  {
    std::lock_guard lock(gateway_mutex_);
    std::vector<std::string_view> seen;
    for (const AttributionRecord& r : batch.records) {
      if (gateway_ids_.count(r.gateway) != 0 || std::find(seen.begin(), seen.end(), r.gateway) != seen.end()) continue;
      seen.push_back(r.gateway);
      missing.add_bytea(r.gateway);
    }
  }
  if (missing.empty()) return Status::ok();
  const std::string names = missing.literal();
  if (Status s = c.run("insert_gateways", PgParams().text(names)); !s) return s;
  PgResult r;
  if (Status s = c.run("select_gateways", PgParams().text(names), r); !s) return s;
  std::lock_guard lock(gateway_mutex_);
  for (int i = 0; i < r.rows(); ++i) {
    gateway_ids_[r.string_at(i, 1)] = r.int_at(i, 0);
    gateway_names_[r.int_at(i, 0)] = r.string_at(i, 1);
  }
  return Status::ok();
}

Status PostgresLedger::ensure_chunk_partitions(PostgresConnection& c, const RecordBatch& batch) {
  PgArray ask;
  std::vector<std::int64_t> asked;
  {
    std::lock_guard lock(months_mutex_);
    for (const AttributionRecord& r : batch.records) {
      std::int64_t lo = 0, hi = 0;  // the month of the previous time: most times share it
      for (std::int64_t t : r.access_times_ms) {
        if (t >= lo && t < hi) continue;
        const std::optional<ChunkMonth> month = chunk_month_of(t);
        if (!month) continue;  // a fixed partition holds it
        lo = month->lo_ms;
        hi = month->hi_ms;
        if (partitioned_months_.count(month->index) != 0 ||
            std::find(asked.begin(), asked.end(), month->index) != asked.end()) {
          continue;
        }
        asked.push_back(month->index);
        ask.add_int(t);
      }
    }
  }
  if (asked.empty()) return Status::ok();
  if (Status s = c.run("ensure_chunk_partitions", PgParams().text(ask.literal())); !s) return s;
  std::lock_guard lock(months_mutex_);
  partitioned_months_.insert(asked.begin(), asked.end());
  return Status::ok();
}

void PostgresLedger::forget_chunk_partitions() {
  std::lock_guard lock(months_mutex_);
  partitioned_months_.clear();
}

Status PostgresLedger::apply_batch(const RecordBatch& batch, ApplyResult& result) {
  result = ApplyResult{};
  if (Status s = validate_batch(batch); !s) return s;
  WriterLease lease(*this);
  PostgresConnection& c = *lease;
  Status s;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    if (s = c.ensure_connected(); !s) return s;
    if (s = resolve_gateways(c, batch); !s) return s;
    if (s = ensure_chunk_partitions(c, batch); !s) {
      if (c.lost()) continue;
      return s;
    }
    std::string sqlstate;
    if (s = c.exec("BEGIN"); !s) {
      if (c.lost()) continue;  // the server went away since the last use: reconnect
      return s;
    }
    s = apply_once(c, batch, result, sqlstate);
    if (s) s = c.exec("COMMIT", &sqlstate);
    if (s) return s;
    c.exec("ROLLBACK");
    result = ApplyResult{};
    if (sqlstate == kNoPartitionSqlstate) {
      forget_chunk_partitions();
      continue;
    }
    // A lost connection (server restart, failover) is retried on a new one:
    // if the lost COMMIT did happen, the retry finds the batch a duplicate.
    if (!is_retryable_sqlstate(sqlstate) && !c.lost()) break;
  }
  return s;
}

Status PostgresLedger::apply_once(PostgresConnection& c, const RecordBatch& batch, ApplyResult& result,
                                  std::string& sqlstate) {
  PgResult claim;
  PgParams claim_params;
  claim_params.bytea(batch.agent_id).int8(static_cast<std::int64_t>(batch.sequence));
  if (Status s = c.run("claim_sequence", claim_params, claim, &sqlstate); !s) return s;
  if (claim.rows() == 0) {
    result.duplicate = true;
    return Status::ok();  // the empty transaction commits harmlessly
  }
  // Stable sort by key; the n-th record of a key goes to round n.
  std::vector<std::size_t> order(batch.records.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return key_of(batch.records[a]) < key_of(batch.records[b]); });
  std::vector<Round> rounds;
  for (std::size_t i = 0, occurrence = 0; i < order.size(); ++i) {
    const AttributionRecord& r = batch.records[order[i]];
    occurrence = i > 0 && key_of(batch.records[order[i - 1]]) == key_of(r) ? occurrence + 1 : 0;
    if (rounds.size() <= occurrence) rounds.resize(occurrence + 1);
    rounds[occurrence].records.push_back(&r);
    rounds[occurrence].times.push_back(r.access_times_ms);
    std::vector<std::int64_t>& times = rounds[occurrence].times.back();
    if (!std::is_sorted(times.begin(), times.end())) std::sort(times.begin(), times.end());
  }
  for (const Round& round : rounds) {
    if (Status s = apply_round(c, round, result, sqlstate); !s) return s;
  }
  return Status::ok();
}

Status PostgresLedger::apply_round(PostgresConnection& c, const Round& round, ApplyResult& result,
                                   std::string& sqlstate) {
  const std::size_t n = round.records.size();
  std::vector<PgArray> cols(15);
  std::vector<std::int64_t> gateway_of(n);
  {
    std::lock_guard lock(gateway_mutex_);
    for (std::size_t i = 0; i < n; ++i) {
      auto it = gateway_ids_.find(round.records[i]->gateway);
      if (it == gateway_ids_.end()) return Status::error("postgresql: gateway id missing after insert");
      gateway_of[i] = it->second;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const AttributionRecord& r = *round.records[i];
    const std::vector<std::int64_t>& t = round.times[i];
    cols[0].add_bytea(r.account);
    cols[1].add_inet(r.client_ip);
    cols[2].add_int(static_cast<int>(r.access_class));
    cols[3].add_int(static_cast<int>(r.ip_source));
    cols[4].add_int(t.front());
    cols[5].add_int(t.back());
    cols[6].add_int(static_cast<std::int64_t>(t.size()));
    cols[7].add_bytea(r.geo.country);
    cols[8].add_bytea(r.geo.registered_country);
    cols[9].add_bytea(r.geo.subdivision);
    cols[10].add_int(r.geo.asn);
    cols[11].add_bytea(r.geo.as_org);
    cols[12].add_int(r.geo.anonymizer_flags);
    cols[13].add_int(r.geo.db_build_epoch);
    cols[14].add_bytea(r.principal);
  }
  PgParams upsert;
  for (const PgArray& col : cols) upsert.text(col.literal());
  PgResult summaries;
  if (Status s = c.run("upsert_summaries", upsert, summaries, &sqlstate); !s) return s;
  if (summaries.rows() != static_cast<int>(n)) return Status::error("postgresql: upsert returned too few summaries");
  std::map<SummaryKey, int> row_of;
  std::vector<std::string> accounts(n);
  for (int row = 0; row < summaries.rows(); ++row) {
    accounts[static_cast<std::size_t>(row)] = summaries.string_at(row, 1);
    row_of[{accounts[static_cast<std::size_t>(row)], summaries.inet_at(row, 2),
            static_cast<int>(summaries.int_at(row, 3))}] = row;
  }
  std::vector<std::int64_t> summary_id(n);
  std::vector<bool> created(n);
  PgArray sg_summary, sg_gateway, open_summary, open_gateway, open_since;
  for (std::size_t i = 0; i < n; ++i) {
    auto it = row_of.find(key_of(*round.records[i]));
    if (it == row_of.end()) return Status::error("postgresql: upsert lost a summary");
    summary_id[i] = summaries.int_at(it->second, 0);
    created[i] = summaries.bool_at(it->second, 4);
    result.summaries_created += created[i] ? 1 : 0;
    result.records_applied += 1;
    result.accesses_applied += round.times[i].size();
    sg_summary.add_int(summary_id[i]);
    sg_gateway.add_int(gateway_of[i]);
    if (!created[i]) {
      open_summary.add_int(summary_id[i]);
      open_gateway.add_int(gateway_of[i]);
      open_since.add_int(saturating_sub(round.times[i].front(), kPgMaxChunkSpanMs));
    }
  }
  if (Status s =
          c.run("insert_summary_gateways", PgParams().text(sg_summary.literal()).text(sg_gateway.literal()), &sqlstate);
      !s) {
    return s;
  }
  std::map<std::int64_t, OpenChunk> open;  // by summary id
  if (!open_summary.empty()) {
    PgResult r;
    PgParams p;
    p.text(open_summary.literal()).text(open_gateway.literal()).text(open_since.literal());
    if (Status s = c.run("select_open_chunks", p, r, &sqlstate); !s) return s;
    for (int row = 0; row < r.rows(); ++row) {
      open[r.int_at(row, 0)] =
          OpenChunk{r.int_at(row, 1), r.int_at(row, 2), r.int_at(row, 3), static_cast<std::uint64_t>(r.int_at(row, 4))};
    }
  }
  // Extend the open chunk when the times continue it (not earlier, within
  // the chunk bounds); start new chunks for the rest.
  PgArray app_id, app_bytes, app_last, app_n;
  PgArray ins_summary, ins_gateway, ins_first, ins_last, ins_n, ins_bytes;
  std::string bytes;
  for (std::size_t i = 0; i < n; ++i) {
    std::span<const std::int64_t> times = round.times[i];
    if (auto it = open.find(summary_id[i]); it != open.end() && times.front() >= it->second.last_ms) {
      const OpenChunk& chunk = it->second;
      std::size_t take = 0;
      while (take < times.size() && chunk.count + take < kPgMaxChunkAccesses &&
             times[take] - chunk.first_ms <= kPgMaxChunkSpanMs) {
        ++take;
      }
      if (take > 0) {
        bytes.clear();
        encode_access_times(chunk.last_ms, times.first(take), bytes);
        app_id.add_int(chunk.id);
        app_bytes.add_bytea(bytes);
        app_last.add_int(times[take - 1]);
        app_n.add_int(static_cast<std::int64_t>(take));
        times = times.subspan(take);
      }
    }
    while (!times.empty()) {
      std::size_t take = 1;
      while (take < times.size() && take < kPgMaxChunkAccesses && times[take] - times.front() <= kPgMaxChunkSpanMs) {
        ++take;
      }
      bytes.clear();
      encode_access_times(times.front(), times.first(take), bytes);
      ins_summary.add_int(summary_id[i]);
      ins_gateway.add_int(gateway_of[i]);
      ins_first.add_int(times.front());
      ins_last.add_int(times[take - 1]);
      ins_n.add_int(static_cast<std::int64_t>(take));
      ins_bytes.add_bytea(bytes);
      times = times.subspan(take);
    }
  }
  if (!app_id.empty()) {
    PgParams p;
    p.text(app_id.literal()).text(app_bytes.literal()).text(app_last.literal()).text(app_n.literal());
    if (Status s = c.run("append_chunks", p, &sqlstate); !s) return s;
  }
  if (!ins_summary.empty()) {
    PgParams p;
    p.text(ins_summary.literal())
        .text(ins_gateway.literal())
        .text(ins_first.literal())
        .text(ins_last.literal())
        .text(ins_n.literal())
        .text(ins_bytes.literal());
    if (Status s = c.run("insert_chunks", p, &sqlstate); !s) return s;
  }
  return Status::ok();
}

// Its own short transaction before the row path's: the drop holds the chunk
// table exclusively, which must not last while summaries are deleted.
Status PostgresLedger::drop_old_partitions(PostgresConnection& c, std::int64_t cutoff_ms,
                                           std::uint64_t& accesses_deleted) {
  accesses_deleted = 0;
  if (Status s = c.ensure_connected(); !s) return s;
  if (Status s = c.exec("BEGIN"); !s) return s;
  std::string sqlstate;
  PgResult dropped;
  Status s = c.exec(kDropLockTimeout, &sqlstate);
  if (s) s = c.run("drop_chunk_partitions", PgParams().int8(cutoff_ms), dropped, &sqlstate);
  if (s) s = c.exec("COMMIT", &sqlstate);
  if (!s) {
    c.exec("ROLLBACK");
    const bool busy = sqlstate == kLockTimeoutSqlstate || is_retryable_sqlstate(sqlstate);
    return busy && !c.lost() ? Status::ok() : s;
  }
  if (dropped.int_at(0, 0) > 0) forget_chunk_partitions();
  accesses_deleted = static_cast<std::uint64_t>(dropped.int_at(0, 1));
  return Status::ok();
}

Status PostgresLedger::apply_retention(std::int64_t cutoff_ms, RetentionResult& result) {
  WriterLease lease(*this);
  PostgresConnection& c = *lease;
  std::uint64_t dropped_accesses = 0;
  Status s = drop_old_partitions(c, cutoff_ms, dropped_accesses);
  if (!s) return s;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    result = RetentionResult{};
    if (s = c.ensure_connected(); !s) return s;
    std::string sqlstate;
    if (s = c.exec("BEGIN"); !s) {
      if (c.lost()) continue;  // the server went away since the last use: reconnect
      return s;
    }
    s = retention_once(c, cutoff_ms, result, sqlstate);
    if (s) s = c.exec("COMMIT", &sqlstate);
    if (s) {
      result.accesses_deleted += dropped_accesses;
      return s;
    }
    c.exec("ROLLBACK");
    result = RetentionResult{};
    if (!is_retryable_sqlstate(sqlstate) && !c.lost()) break;
  }
  return s;
}

// After whole months were dropped: deletes the chunks older than the cutoff
// that are left (in the month it falls in, and any month a drop skipped),
// keeps only the newer times of chunks straddling it, then the summaries last
// seen before it. A summary's count and first sight stay as they were: they
// describe its whole life, whichever path deleted its detail.
Status PostgresLedger::retention_once(PostgresConnection& c, std::int64_t cutoff_ms, RetentionResult& result,
                                      std::string& sqlstate) {
  PgResult deleted;
  if (Status s = c.run("delete_old_chunks", PgParams().int8(cutoff_ms), deleted, &sqlstate); !s) return s;
  result.accesses_deleted = static_cast<std::uint64_t>(deleted.int_at(0, 0));
  PgResult straddling;
  if (Status s = c.run("straddling_chunks", PgParams().int8(cutoff_ms), straddling, &sqlstate); !s) return s;
  std::vector<std::int64_t> times;
  std::string bytes;
  for (int row = 0; row < straddling.rows(); ++row) {
    const std::int64_t id = straddling.int_at(row, 0);
    const auto n = static_cast<std::uint64_t>(straddling.int_at(row, 2));
    times.clear();
    if (!decode_access_times(straddling.int_at(row, 1), straddling.bytes_at(row, 3), n, times)) {
      return Status::error(fmt::format("ledger access chunk {} is corrupt", id));
    }
    const auto keep = std::lower_bound(times.begin(), times.end(), cutoff_ms);
    const auto kept = static_cast<std::uint64_t>(times.end() - keep);
    bytes.clear();
    encode_access_times(*keep, std::span<const std::int64_t>(&*keep, kept), bytes);
    result.accesses_deleted += n - kept;
    PgParams p;
    p.int8(id).int8(*keep).int8(static_cast<std::int64_t>(kept)).bytea(bytes);
    if (Status s = c.run("rewrite_chunk", p, &sqlstate); !s) return s;
  }
  if (Status s = c.run("delete_old_summary_gateways", PgParams().int8(cutoff_ms), &sqlstate); !s) return s;
  PgResult gone;
  if (Status s = c.run("delete_old_summaries", PgParams().int8(cutoff_ms), gone, &sqlstate); !s) return s;
  result.summaries_deleted = gone.affected();
  return Status::ok();
}

}  // namespace ipattrib::collector
