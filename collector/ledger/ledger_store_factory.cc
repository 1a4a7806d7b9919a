#include "collector/ledger/ledger_store_factory.h"

#include <fstream>
#include <sstream>

#include "collector/ledger/postgresql/postgres_ledger_store.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"

namespace ipattrib::collector {

Status read_postgres_password_file(const std::string& path, std::string& password) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("cannot read postgresql_password_file " + path);
  std::stringstream text;
  text << in.rdbuf();
  password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  if (password.empty()) return Status::error("postgresql_password_file " + path + " is empty");
  return Status::ok();
}

Status open_ledger_store(const LedgerConfig& config, std::unique_ptr<LedgerStore>& store) {
  switch (config.store) {
    case LedgerStoreKind::kSqlite: {
      SqliteLedgerOptions options;
      options.path = config.sqlite_path;
      options.busy_timeout_ms = config.busy_timeout_ms;
      return open_sqlite_ledger_store(options, store);
    }
    case LedgerStoreKind::kPostgresql: {
      PostgresLedgerOptions options;
      options.conninfo = config.postgresql_dsn;
      options.write_connections = config.postgresql_connections;
      if (!config.postgresql_password_file.empty()) {
        if (Status s = read_postgres_password_file(config.postgresql_password_file, options.password); !s) return s;
      }
      return open_postgres_ledger_store(options, store);
    }
  }
  return Status::error("unknown ledger store");
}

}  // namespace ipattrib::collector
