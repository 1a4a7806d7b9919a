// LedgerConfig: the collector's [ledger] section — which store keeps the
// ledger, where, and how long access detail is kept.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "ipattrib/config_errors.h"

namespace ipattrib::collector {

enum class LedgerStoreKind : std::uint8_t { kSqlite, kPostgresql };

struct LedgerConfig {
  LedgerStoreKind store = LedgerStoreKind::kSqlite;  // store = "sqlite" | "postgresql"
  std::string sqlite_path = "var/ledger.sqlite3";    // sqlite_path
  std::uint32_t busy_timeout_ms = 5000;              // busy_timeout_ms, 0..600000
  // store = "postgresql": a libpq connection string or URI, which must not
  // hold a password (config files get copied and logged); the password comes
  // from postgresql_password_file or else libpq's PGPASSWORD / ~/.pgpass.
  std::string postgresql_dsn;                // postgresql_dsn, required for postgresql
  std::string postgresql_password_file;      // postgresql_password_file, "" = none
  std::uint32_t postgresql_connections = 4;  // postgresql_connections, 1..64: batches applied at once
  // Access detail and summaries are deleted this many days after their last
  // access (the reported CIP rule: two years). 0 keeps everything.
  std::uint32_t retention_days = 730;         // retention_days, 0..36500
  std::uint32_t retention_interval_s = 3600;  // retention_interval_s: how often the retention job runs, 60..604800
};

// Parses the [ledger] table; records file:line errors and rejects unknown keys.
LedgerConfig parse_ledger_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::collector
