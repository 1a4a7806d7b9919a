// The embedded ledger: a LedgerStore in one SQLite file (WAL). One collector
// process writes the file; ingest uses one connection and queries another,
// so readers never wait for a commit nor delay one. Other processes may read
// the file (sqlite3 CLI, backups) thanks to WAL and the busy timeout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/ledger/ledger_store.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct SqliteLedgerOptions {
  std::string path;  // created if missing
  // How long a statement waits for a lock held by another connection (for
  // example ipattribctl reading the file, or a backup) before failing.
  std::uint32_t busy_timeout_ms = 5000;
};

// Opens (creating or migrating) the ledger at options.path.
Status open_sqlite_ledger_store(const SqliteLedgerOptions& options, std::unique_ptr<LedgerStore>& store);

}  // namespace ipattrib::collector
