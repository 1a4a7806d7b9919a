// The SQLite ledger schema as an ordered list of migrations. A database
// records the version it has reached in schema_version; opening applies the
// missing migrations in order, each in its own transaction, and refuses a
// database written by a newer version.
#pragma once

#include <sqlite3.h>

#include <span>

#include "ipattrib/status.h"

namespace ipattrib::collector {

// migrations[i] brings a database from version i to version i + 1.
std::span<const char* const> sqlite_ledger_migrations();
int sqlite_ledger_latest_version();

// 0 for a database without a ledger.
Status read_sqlite_ledger_version(sqlite3* db, int& version);
Status migrate_sqlite_ledger(sqlite3* db);

}  // namespace ipattrib::collector
