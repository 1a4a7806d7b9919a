#include "collector/alerts/alert_store_factory.h"

#include "collector/alerts/postgresql/postgres_alert_store.h"
#include "collector/alerts/sqlite/sqlite_alert_store.h"
#include "collector/ledger/ledger_store_factory.h"

namespace ipattrib::collector {

Status open_alert_store(const LedgerConfig& ledger, const AlertStoreChoice& choice, std::unique_ptr<AlertStore>& store,
                        std::string& where) {
  switch (ledger.store) {
    case LedgerStoreKind::kSqlite: {
      where = choice.sqlite_path;
      Status s = open_sqlite_alert_store({choice.sqlite_path, ledger.busy_timeout_ms}, store);
      return s ? s : Status::error("alert store " + choice.sqlite_path + ": " + s.message());
    }
    case LedgerStoreKind::kPostgresql: {
      where = "the ledger's PostgreSQL database";
      PostgresAlertStoreOptions options;
      options.conninfo = ledger.postgresql_dsn;
      options.connections = choice.postgresql_connections;
      if (!ledger.postgresql_password_file.empty()) {
        if (Status s = read_postgres_password_file(ledger.postgresql_password_file, options.password); !s) return s;
      }
      Status s = open_postgres_alert_store(options, store);
      return s ? s : Status::error("alert store (postgresql): " + s.message());
    }
  }
  return Status::error("unknown ledger store");
}

}  // namespace ipattrib::collector
