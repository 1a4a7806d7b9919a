// Schema of the PostgreSQL alert store and its versioned migrations (private
// to collector/alerts/postgresql).
#pragma once

#include "collector/ledger/postgresql/postgres_connection.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// Creates or migrates the alert tables to the latest version, in one
// transaction under an advisory lock of its own (not the ledger's: the two
// stores migrate independently), so collectors starting at once migrate
// once. Refuses a database migrated by a newer program.
Status migrate_postgres_alerts(PostgresConnection& connection);

int postgres_alerts_latest_version();

}  // namespace ipattrib::collector
