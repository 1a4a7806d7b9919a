// open_ledger_store: opens the LedgerStore the [ledger] config names —
// the embedded SQLite file or the PostgreSQL database several collectors
// share — so main() wires one interface whatever the store.
#pragma once

#include <memory>
#include <string>

#include "collector/ledger/ledger_config.h"
#include "collector/ledger/ledger_store.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// For PostgreSQL the password is read here from postgresql_password_file
// (one line; trailing newline ignored) or, without a file, left to libpq
// (PGPASSWORD, ~/.pgpass). Error messages never contain it.
Status open_ledger_store(const LedgerConfig& config, std::unique_ptr<LedgerStore>& store);

// The password in postgresql_password_file: its content without trailing
// newlines; an empty file is an error. Also used by the alert store, which
// shares the ledger's database.
Status read_postgres_password_file(const std::string& path, std::string& password);

}  // namespace ipattrib::collector
