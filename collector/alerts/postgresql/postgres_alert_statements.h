// The PostgreSQL alert store's prepared statements and row reader (private
// to collector/alerts/postgresql).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "collector/ledger/postgresql/postgres_connection.h"

namespace ipattrib::collector {

// First key of the two-int advisory locks that serialise recording hits of
// one (measure, account, ip): "ipat" in ASCII. Two-int and bigint advisory
// locks are separate key spaces, so these never meet the migration locks.
inline constexpr int kPgDedupLockClass = 1768972660;

// pg_advisory_lock key held while a collector runs a retroactive scan:
// "ipatscan" in ASCII, unlike the ledger's and the migration's keys.
inline constexpr const char kPgScanLockKey[] = "7597679724154020206";

// name -> SQL, prepared on every connection.
std::vector<std::pair<std::string, std::string>> postgres_alert_statements();

// A row of get_alert / list_any / list_account.
Alert read_pg_alert(const PgResult& r, int row);
// A row of claim_outbox.
OutboxEntry read_pg_outbox_entry(const PgResult& r, int row);

}  // namespace ipattrib::collector
