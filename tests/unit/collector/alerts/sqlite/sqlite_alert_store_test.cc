// SQLite-only behaviour of the alert store: WAL, its own schema version
// table, refusal of a newer schema. Shared behaviour is in alert_store_test.cc.
#include "collector/alerts/sqlite/sqlite_alert_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "collector/alerts/sqlite/sqlite_alert_schema.h"

namespace ipattrib::collector {
namespace {

class SqliteAlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sqlite-alert-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    options_.path = dir_ + "/alerts.sqlite3";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string raw_text(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string v;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }
  void raw(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::string dir_;
  SqliteAlertStoreOptions options_;
};

TEST_F(SqliteAlertStoreTest, CreatesAWalFileAtTheLatestSchemaVersion) {
  std::unique_ptr<AlertStore> store;
  ASSERT_TRUE(open_sqlite_alert_store(options_, store));
  EXPECT_EQ(raw_text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_text("SELECT version FROM alerts_schema_version"),
            std::to_string(sqlite_alert_schema_latest_version()));
  store.reset();
  ASSERT_TRUE(open_sqlite_alert_store(options_, store)) << "reopening an up-to-date file migrates nothing";
}

TEST_F(SqliteAlertStoreTest, SharesAFileWithOtherTablesWithoutClashing) {
  raw("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (7);");
  std::unique_ptr<AlertStore> store;
  ASSERT_TRUE(open_sqlite_alert_store(options_, store));
  EXPECT_EQ(raw_text("SELECT version FROM schema_version"), "7");
}

TEST_F(SqliteAlertStoreTest, RefusesAFileWrittenByANewerVersion) {
  {
    std::unique_ptr<AlertStore> store;
    ASSERT_TRUE(open_sqlite_alert_store(options_, store));
  }
  raw("UPDATE alerts_schema_version SET version = 99");
  std::unique_ptr<AlertStore> store;
  const Status s = open_sqlite_alert_store(options_, store);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_EQ(store, nullptr);
}

// A file from before outbox leases (schema v2) keeps its pending entries,
// which become claimable once v3 adds the lease column.
TEST_F(SqliteAlertStoreTest, AVersion2FileMigratesWithItsPendingOutbox) {
  {
    std::unique_ptr<AlertStore> store;
    ASSERT_TRUE(open_sqlite_alert_store(options_, store));
    AlertHit h;
    h.measure_id = "m1";
    h.account = "alice";
    h.ip = *IpAddress::parse("192.0.2.1");
    RecordHitsResult r;
    ASSERT_TRUE(store->record_hits("a", 1, {h}, 1000, 0, {"hook"}, r));
  }
  raw("ALTER TABLE alert_outbox DROP COLUMN leased_until_ms; UPDATE alerts_schema_version SET version = 2;");
  std::unique_ptr<AlertStore> store;
  ASSERT_TRUE(open_sqlite_alert_store(options_, store));
  EXPECT_EQ(raw_text("SELECT version FROM alerts_schema_version"), "3");
  std::vector<OutboxEntry> entries;
  ASSERT_TRUE(store->claim_deliveries("hook", 1000, 500, 10, entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].leased_until_ms, 1500);
}

// A collector killed while holding claims restarts on its own file: it
// delivers those entries at once, not after their lease.
TEST_F(SqliteAlertStoreTest, ReopeningGivesBackTheLeasesOfTheCollectorThatHadTheFile) {
  std::vector<OutboxEntry> held;
  {
    std::unique_ptr<AlertStore> store;
    ASSERT_TRUE(open_sqlite_alert_store(options_, store));
    AlertHit h;
    h.measure_id = "m1";
    h.account = "alice";
    h.ip = *IpAddress::parse("192.0.2.1");
    RecordHitsResult r;
    ASSERT_TRUE(store->record_hits("a", 1, {h}, 1000, 0, {"hook"}, r));
    ASSERT_TRUE(store->claim_deliveries("hook", 1000, 60'000, 10, held));
    ASSERT_EQ(held.size(), 1u);
  }
  std::unique_ptr<AlertStore> store;
  ASSERT_TRUE(open_sqlite_alert_store(options_, store));
  std::vector<OutboxEntry> entries;
  ASSERT_TRUE(store->claim_deliveries("hook", 1001, 60'000, 10, entries));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, held[0].id);
}

TEST_F(SqliteAlertStoreTest, UnopenablePathIsAnError) {
  options_.path = dir_ + "/missing-dir/alerts.sqlite3";
  std::unique_ptr<AlertStore> store;
  const Status s = open_sqlite_alert_store(options_, store);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("alert store"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ipattrib::collector
