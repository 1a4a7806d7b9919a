// What every LedgerStore implementation does the same way, whatever its
// database: which batches it accepts, and how an account's export is
// gathered page by page from its own queries.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "collector/ledger/ledger_types.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// apply_batch() refuses, before touching the database: an empty agent id,
// sequence 0 or beyond INT64_MAX, records without account, client IP or
// access times, unknown class or IP source.
Status validate_batch(const RecordBatch& batch);

// a - b, clamped at INT64_MIN (chunk lookups reach back from the oldest time).
inline std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  return a < std::numeric_limits<std::int64_t>::min() + b ? std::numeric_limits<std::int64_t>::min() : a - b;
}

// Fills `out` with every summary and every access of `account`, paging
// through the store's own queries (run inside the caller's snapshot).
Status collect_account_export(const std::string& account,
                              const std::function<Status(const AccountIpsQuery&, Page<IpSummary>&)>& account_ips,
                              const std::function<Status(const AccountAccessesQuery&, AccessPage&)>& account_accesses,
                              AccountExport& out);

}  // namespace ipattrib::collector
