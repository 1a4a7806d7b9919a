// SqliteLedger: the SQLite LedgerStore (private to collector/ledger/sqlite).
// Two connections to the one WAL file: writes (apply_batch, apply_retention)
// serialise on the writer, queries on the reader, so an analyst's export
// never delays the commit an agent waits for. Prepared statements live as
// long as their connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/ledger/ledger_store.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {

// Bounds of one access chunk: an append rewrites at most this many times,
// and a time-range query seeks to first_ms >= since - kMaxChunkSpanMs.
inline constexpr std::uint64_t kMaxChunkAccesses = 512;
inline constexpr std::int64_t kMaxChunkSpanMs = 24 * 3600 * 1000;

class SqliteLedger final : public LedgerStore {
 public:
  ~SqliteLedger() override;
  Status open(const SqliteLedgerOptions& options);

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
  struct Statements;
  struct OpenChunk {
    std::int64_t id = 0;
    std::int64_t gateway_id = 0;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    std::uint64_t count = 0;
  };

  // One SQLite connection with its statements; used by one thread at a time.
  struct Connection {
    std::mutex mutex;
    sqlite3* db = nullptr;
    std::unique_ptr<Statements> st;
  };

  Status open_connection(const SqliteLedgerOptions& options, Connection& connection);
  Status prepare_statements(Connection& connection);
  Status apply_in_transaction(const RecordBatch& batch, ApplyResult& result);
  Status apply_record(const AttributionRecord& record, std::span<const std::int64_t> times, ApplyResult& result);
  Status append_times(std::int64_t summary_id, bool new_summary, std::int64_t gateway_id,
                      std::span<const std::int64_t> times);
  Status find_open_chunk(std::int64_t summary_id, std::int64_t gateway_id, std::int64_t first_new_ms, OpenChunk& chunk,
                         bool& found);
  Status gateway_id(const std::string& name, std::int64_t& id);
  Status gateway_name(std::int64_t id, std::string& name);
  Status read_summaries(SqliteStatement& stmt, std::uint32_t limit, Page<IpSummary>& page);
  Status read_gateways(std::int64_t summary_id, std::vector<std::string>& names);
  Status trim_straddling_chunks(std::int64_t cutoff_ms, RetentionResult& result);
  Status account_ips_locked(const AccountIpsQuery& query, Page<IpSummary>& page);
  Status account_accesses_locked(const AccountAccessesQuery& query, AccessPage& page);
  Status export_account_locked(const std::string& account, AccountExport& out);
  struct AccessCollector;
  Status collect_summary_accesses(std::int64_t summary_id, const IpAddress& ip, RecordClass access_class,
                                  std::int64_t since, std::int64_t until, AccessCollector& collector);

  Connection writer_;
  Connection reader_;
  // Gateway names are few and never deleted. The writer's cache is cleared
  // on rollback because a rolled-back insert's id is not in the file; the
  // reader only ever sees committed ids.
  std::unordered_map<std::string, std::int64_t> gateway_ids_;    // writer_
  std::unordered_map<std::int64_t, std::string> gateway_names_;  // reader_
};

}  // namespace ipattrib::collector
