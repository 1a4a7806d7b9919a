// The shared ledger: a LedgerStore in a PostgreSQL database that several
// collectors use at once. Batch deduplication lives in the database, so any
// collector can apply an agent's retransmission and it still counts once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/ledger/ledger_store.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct PostgresLedgerOptions {
  // libpq connection string ("host=db port=5432 dbname=ipattrib user=...")
  // or URI, without a password.
  std::string conninfo;
  // Sent beside conninfo; "" leaves it to libpq (PGPASSWORD, ~/.pgpass).
  // Never logged.
  std::string password;
  // Connections applying batches concurrently (one more serves queries).
  std::uint32_t write_connections = 4;
};

// Connects, creates or migrates the schema (safe when several collectors
// start at once) and prepares the statements.
Status open_postgres_ledger_store(const PostgresLedgerOptions& options, std::unique_ptr<LedgerStore>& store);

}  // namespace ipattrib::collector
