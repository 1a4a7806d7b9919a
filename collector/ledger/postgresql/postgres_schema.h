// Schema of the PostgreSQL ledger and its versioned migrations (private to
// collector/ledger/postgresql).
#pragma once

#include "collector/ledger/postgresql/postgres_connection.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// Creates or migrates the ledger tables to the latest version. Several
// collectors may call this at once against one database: the migration runs
// in one transaction under a transaction-level advisory lock, so the first
// migrates and the others then find the latest version. Refuses a database
// migrated by a newer program.
Status migrate_postgres_ledger(PostgresConnection& connection);
// Stops at `target_version` (1..latest): tests build an older program's
// database with it, to check that migrating keeps its data.
Status migrate_postgres_ledger(PostgresConnection& connection, int target_version);

int postgres_ledger_latest_version();

}  // namespace ipattrib::collector
