// open_alert_store: opens the AlertStore that goes with the ledger — the
// ledger's PostgreSQL database when collectors share one (so dedup, the
// evaluated sequences and the outbox are shared too), else an SQLite file
// of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/alerts/alert_store.h"
#include "collector/ledger/ledger_config.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct AlertStoreChoice {
  // Used when the ledger is SQLite: the alert store's own file.
  std::string sqlite_path;
  // Used when the ledger is PostgreSQL: connections the alert store opens
  // (one per delivering sink, plus ingest and the API, is enough).
  std::uint32_t postgresql_connections = 3;
};

// `where` says, for the log, where the alerts are (a path, or "the ledger's
// PostgreSQL database"; never the DSN or password). Errors never contain
// the password.
Status open_alert_store(const LedgerConfig& ledger, const AlertStoreChoice& choice, std::unique_ptr<AlertStore>& store,
                        std::string& where);

}  // namespace ipattrib::collector
