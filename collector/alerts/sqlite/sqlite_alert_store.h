// The embedded alert store: an AlertStore in one SQLite file (WAL), by
// default a file of its own next to the ledger so alert traffic never
// contends with ledger commits. Ingest and the delivery worker write through
// one connection, the API reads through another.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/alerts/alert_store.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct SqliteAlertStoreOptions {
  std::string path;  // created if missing
  // How long a statement waits for a lock another connection or process
  // holds before failing.
  std::uint32_t busy_timeout_ms = 5000;
};

// Opens (creating or migrating) the alert store at options.path.
Status open_sqlite_alert_store(const SqliteAlertStoreOptions& options, std::unique_ptr<AlertStore>& store);

}  // namespace ipattrib::collector
