// The SQLite alert store's schema as an ordered list of migrations, versioned
// in its own alerts_schema_version table so the alerts may share a file with
// the ledger or live in their own. Opening applies the missing migrations in
// order, each in its own transaction, and refuses a newer database.
#pragma once

#include <sqlite3.h>

#include "ipattrib/status.h"

namespace ipattrib::collector {

int sqlite_alert_schema_latest_version();
// 0 for a database without alerts.
Status read_sqlite_alert_schema_version(sqlite3* db, int& version);
Status migrate_sqlite_alert_schema(sqlite3* db);

}  // namespace ipattrib::collector
