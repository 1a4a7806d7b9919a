// PostgresLedger: the PostgreSQL LedgerStore (private to
// collector/ledger/postgresql). A small pool of connections applies batches
// (each in its own transaction, so agents' batches commit in parallel) and
// one connection answers queries, so an analyst's export never delays the
// commit an agent waits for.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector/ledger/ledger_store.h"
#include "collector/ledger/postgresql/postgres_connection.h"
#include "collector/ledger/postgresql/postgres_ledger_store.h"

namespace ipattrib::collector {

// Bounds of one access chunk, as in the SQLite store: an append rewrites at
// most this many times, and a time-range query looks back one span.
inline constexpr std::uint64_t kPgMaxChunkAccesses = 512;
inline constexpr std::int64_t kPgMaxChunkSpanMs = 24 * 3600 * 1000;

class PostgresLedger final : public LedgerStore {
 public:
  Status open(const PostgresLedgerOptions& options);

  Status apply_batch(const RecordBatch& batch, ApplyResult& result) override;
  Status highest_sequence(const std::string& agent_id, std::uint64_t& sequence) override;
  Status account_exists(const std::string& account, bool& exists) override;
  Status account_ips(const AccountIpsQuery& query, Page<IpSummary>& page) override;
  Status account_accesses(const AccountAccessesQuery& query, AccessPage& page) override;
  Status network_accounts(const NetworkAccountsQuery& query, Page<IpSummary>& page) override;
  Status export_account(const std::string& account, AccountExport& out) override;
  Status scan_summaries(const std::function<bool(const IpSummary&)>& visit) override;
  Status apply_retention(std::int64_t cutoff_ms, RetentionResult& result) override;

 private:
  // Borrows a write connection for one transaction; returns it on scope exit.
  class WriterLease;
  struct Round;

  // Runs one read on the query connection; if the connection was lost (a
  // server restart or failover), reconnects and runs it once more.
  template <typename F>
  Status read_with_reconnect(F&& read) {
    std::lock_guard lock(reader_mutex_);
    Status s = reader_.ensure_connected();
    if (s) s = read();
    if (!s && reader_.lost()) {
      if (Status r = reader_.ensure_connected(); !r) return r;
      s = read();
    }
    return s;
  }
  PostgresConnection* acquire_writer();
  void release_writer(PostgresConnection* c);
  Status resolve_gateways(PostgresConnection& c, const RecordBatch& batch);
  // Creates the month partitions the batch's chunks need (outside its
  // transaction, like gateways) unless this store already saw them.
  Status ensure_chunk_partitions(PostgresConnection& c, const RecordBatch& batch);
  void forget_chunk_partitions();
  // Drops the month partitions wholly older than the cutoff; a lock that
  // cannot be had at once skips the drop (the row path deletes instead).
  Status drop_old_partitions(PostgresConnection& c, std::int64_t cutoff_ms, std::uint64_t& accesses_deleted);
  Status apply_once(PostgresConnection& c, const RecordBatch& batch, ApplyResult& result, std::string& sqlstate);
  Status apply_round(PostgresConnection& c, const Round& round, ApplyResult& result, std::string& sqlstate);
  Status retention_once(PostgresConnection& c, std::int64_t cutoff_ms, RetentionResult& result, std::string& sqlstate);
  Status read_summaries(const char* statement, const PgParams& params, std::uint32_t limit, Page<IpSummary>& page);
  Status gateway_name(std::int64_t id, std::string& name);
  Status account_ips_locked(const AccountIpsQuery& query, Page<IpSummary>& page);
  Status account_accesses_locked(const AccountAccessesQuery& query, AccessPage& page);
  static std::vector<std::int64_t> chunks_for_page(const PgResult& bounds, std::int64_t since, std::int64_t until,
                                                   std::uint64_t needed);
  Status export_account_locked(const std::string& account, AccountExport& out);

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PostgresConnection>> writers_;
  std::vector<PostgresConnection*> idle_writers_;  // pool_mutex_

  std::mutex reader_mutex_;
  PostgresConnection reader_;  // reader_mutex_

  // Gateway names are few and never deleted; ids are committed before a
  // batch uses them, so the caches never hold an id the database lacks.
  std::mutex gateway_mutex_;
  std::unordered_map<std::string, std::int64_t> gateway_ids_;    // gateway_mutex_
  std::unordered_map<std::int64_t, std::string> gateway_names_;  // gateway_mutex_

  // Months (ChunkMonth::index) known to have a partition. Another collector's
  // retention may drop one: the insert then fails with 23514, the set is
  // cleared and the batch applied again.
  std::mutex months_mutex_;
  std::unordered_set<std::int64_t> partitioned_months_;  // months_mutex_
};

}  // namespace ipattrib::collector
