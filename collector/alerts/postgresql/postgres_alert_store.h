// The shared alert store: an AlertStore in the PostgreSQL database the
// collectors' shared ledger lives in. Dedup state, the per-agent evaluated
// sequence and the outbox are in the database, so a hit is alerted once
// whichever collector sees it, and collectors share delivery work without
// sending an entry twice while its lease holds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/alerts/alert_store.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct PostgresAlertStoreOptions {
  // libpq connection string or URI, without a password (the ledger's).
  std::string conninfo;
  // Sent beside conninfo; "" leaves it to libpq (PGPASSWORD, ~/.pgpass).
  // Never logged.
  std::string password;
  // Connections used at once (ingest recording hits, one per delivering
  // sink, the API); callers beyond this wait for one.
  std::uint32_t connections = 3;
};

// Connects, creates or migrates the alert tables (safe when several
// collectors start at once) and prepares the statements.
Status open_postgres_alert_store(const PostgresAlertStoreOptions& options, std::unique_ptr<AlertStore>& store);

}  // namespace ipattrib::collector
