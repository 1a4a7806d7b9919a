// LedgerStore: the collector's per-account IP ledger — for each account,
// every IP used for access or administration with the time of each access —
// behind one interface so the embedded SQLite store and the shared PostgreSQL
// store are interchangeable (Envoy-style extension point). Every method
// returns a Status instead of throwing; implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "collector/ledger/ledger_types.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Applies one agent batch in one transaction, exactly once: if
  // batch.sequence is not above the agent's highest committed sequence the
  // batch is a retransmission and result.duplicate is set with nothing
  // changed. Returns only after the transaction is durable (the caller
  // acknowledges the batch to the agent next). Rejects an empty agent id,
  // sequence 0, empty accounts and unset IPs without applying anything.
  virtual Status apply_batch(const RecordBatch& batch, ApplyResult& result) = 0;

  // 0 when the agent has never committed a batch.
  virtual Status highest_sequence(const std::string& agent_id, std::uint64_t& sequence) = 0;

  virtual Status account_exists(const std::string& account, bool& exists) = 0;
  virtual Status account_ips(const AccountIpsQuery& query, Page<IpSummary>& page) = 0;
  virtual Status account_accesses(const AccountAccessesQuery& query, AccessPage& page) = 0;
  virtual Status network_accounts(const NetworkAccountsQuery& query, Page<IpSummary>& page) = 0;
  virtual Status export_account(const std::string& account, AccountExport& out) = 0;
  // Every summary, in (account, ip, class) order; stops when visit returns
  // false. For whole-ledger passes (the special-measures retroactive scan):
  // the visitor runs without any store lock held, so it may query the store.
  virtual Status scan_summaries(const std::function<bool(const IpSummary&)>& visit) = 0;

  // Deletes access detail older than cutoff_ms and the summaries whose last
  // access is older than it.
  virtual Status apply_retention(std::int64_t cutoff_ms, RetentionResult& result) = 0;
};

}  // namespace ipattrib::collector
