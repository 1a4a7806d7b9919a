// open_alert_store picks the store that goes with the ledger: an SQLite file
// beside an SQLite ledger, the ledger's own database for a PostgreSQL one
// (password from the ledger's password file, never in messages).
#include "collector/alerts/alert_store_factory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/postgres_server.h"

namespace ipattrib::collector {
namespace {

TEST(AlertStoreFactoryTest, AnSqliteLedgerGetsAnSqliteFileAtTheGivenPath) {
  std::string dir = (std::filesystem::temp_directory_path() / "alert-factory-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  LedgerConfig ledger;
  AlertStoreChoice choice;
  choice.sqlite_path = dir + "/alerts.sqlite3";
  std::unique_ptr<AlertStore> store;
  std::string where;
  ASSERT_TRUE(open_alert_store(ledger, choice, store, where));
  EXPECT_EQ(where, choice.sqlite_path);
  EXPECT_TRUE(std::filesystem::exists(choice.sqlite_path));
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(AlertStoreFactoryTest, APostgresLedgerSharesItsDatabaseAndPasswordFile) {
  std::string why;
  test_support::PostgresServer* server = test_support::shared_postgres_server(why);
  if (server == nullptr) GTEST_SKIP() << "skipped: no PostgreSQL server: " << why;
  const std::string database = test_support::fresh_database_name("alertfactory");
  ASSERT_TRUE(server->ensure_database(database));
  const std::string password_file = server->directory() + "/alert-factory-password-" + database;
  std::ofstream(password_file) << server->password() << "\n";

  LedgerConfig ledger;
  ledger.store = LedgerStoreKind::kPostgresql;
  ledger.postgresql_dsn = server->tcp_conninfo(database);
  ledger.postgresql_password_file = password_file;
  AlertStoreChoice choice;
  choice.sqlite_path = "/nonexistent/alerts.sqlite3";  // not used with a PostgreSQL ledger
  std::unique_ptr<AlertStore> store;
  std::string where;
  Status s = open_alert_store(ledger, choice, store, where);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(where.find(server->password()), std::string::npos);
  std::string tables;
  ASSERT_TRUE(server->execute(database, "SELECT count(*) FROM alerts_schema_version", &tables));
  EXPECT_EQ(tables, "1");

  std::ofstream(password_file) << "wrong-" << server->password() << "\n";
  store.reset();
  s = open_alert_store(ledger, choice, store, where);
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message().find(server->password()), std::string::npos) << "the password never appears in errors";
}

}  // namespace
}  // namespace ipattrib::collector
