// SQLite-only behaviour of the ledger: schema migrations, durability
// settings, compact access storage. The shared behaviour is in
// ledger_store_test.cc.
#include "collector/ledger/sqlite/sqlite_ledger_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/sqlite/sqlite_schema.h"

namespace ipattrib::collector {
namespace {

class SqliteLedgerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "sqlite-ledger-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    options_.path = dir_ + "/ledger.sqlite3";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // Runs SQL on the file through a separate raw connection.
  void raw(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }
  std::int64_t raw_int(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const std::int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }
  std::string raw_text(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  std::string dir_;
  SqliteLedgerOptions options_;
};

AttributionRecord record(std::string account, std::vector<std::int64_t> times) {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = *IpAddress::parse("192.0.2.7");
  r.gateway = "gw";
  r.access_times_ms = std::move(times);
  return r;
}

TEST_F(SqliteLedgerStoreTest, NewLedgerIsAtTheLatestVersionInWalMode) {
  std::unique_ptr<LedgerStore> store;
  ASSERT_TRUE(open_sqlite_ledger_store(options_, store));
  store.reset();
  EXPECT_EQ(raw_int("SELECT version FROM schema_version"), sqlite_ledger_latest_version());
  EXPECT_EQ(raw_text("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteLedgerStoreTest, MigratesAVersionOneLedgerKeepingItsData) {
  raw(std::string(sqlite_ledger_migrations()[0]) + "UPDATE schema_version SET version = 1;");
  std::string times;
  encode_access_times(1000, std::vector<std::int64_t>{1000, 1500}, times);
  std::string hex;
  for (unsigned char c : times) hex += fmt::format("{:02x}", c);
  raw("INSERT INTO gateways (id, name) VALUES (1, x'6777');"  // "gw"
      "INSERT INTO summaries (id, account, ip, ip_family, access_class, ip_source, first_seen_ms, last_seen_ms, "
      "access_count, f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, "
      "f_db_build_epoch, l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, "
      "l_db_build_epoch) VALUES (1, x'6f6c64', x'00000000000000000000ffffc0000207', 4, 0, 0, 1000, "
      "1500, 2, x'5553', x'', x'', 0, x'', 0, 0, x'5553', x'', x'', 0, x'', 0, 0);"
      "INSERT INTO summary_gateways VALUES (1, 1);"
      "INSERT INTO access_chunks (id, summary_id, gateway_id, first_ms, last_ms, n, times) VALUES "
      "(1, 1, 1, 1000, 1500, 2, x'" +
      hex + "');");
  std::unique_ptr<LedgerStore> store;
  Status s = open_sqlite_ledger_store(options_, store);
  ASSERT_TRUE(s) << s.message();
  AccountIpsQuery q;
  q.account = "old";
  Page<IpSummary> page;
  ASSERT_TRUE(store->account_ips(q, page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].ip.to_string(), "192.0.2.7");
  EXPECT_EQ(page.items[0].access_count, 2u);
  EXPECT_EQ(page.items[0].last_principal, "");
  EXPECT_EQ(page.items[0].gateways, std::vector<std::string>{"gw"});
  // New writes use the new column and append to the old chunk.
  AttributionRecord r = record("old", {2000});
  r.principal = "carol";
  ApplyResult result;
  ASSERT_TRUE(store->apply_batch(RecordBatch{"a", 1, {r}}, result));
  ASSERT_TRUE(store->account_ips(q, page));
  EXPECT_EQ(page.items.at(0).last_principal, "carol");
  AccountExport out;
  ASSERT_TRUE(store->export_account("old", out));
  ASSERT_EQ(out.accesses.size(), 3u);
  EXPECT_EQ(out.accesses[1].time_ms, 1500);
  store.reset();
  EXPECT_EQ(raw_int("SELECT version FROM schema_version"), sqlite_ledger_latest_version());
  EXPECT_EQ(raw_int("SELECT count(*) FROM access_chunks"), 1);
}

TEST_F(SqliteLedgerStoreTest, RefusesALedgerFromANewerVersion) {
  raw("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);");
  std::unique_ptr<LedgerStore> store;
  Status s = open_sqlite_ledger_store(options_, store);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_EQ(store, nullptr);
}

TEST_F(SqliteLedgerStoreTest, UnopenablePathIsAnError) {
  options_.path = dir_ + "/missing-dir/ledger.sqlite3";
  std::unique_ptr<LedgerStore> store;
  Status s = open_sqlite_ledger_store(options_, store);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("missing-dir"), std::string::npos) << s.message();
}

// One summary receiving a second's worth of accesses per batch: appends fill
// chunks, so the stored times cost about the varint of the gap.
TEST_F(SqliteLedgerStoreTest, AccessTimesAreStoredCompactly) {
  std::unique_ptr<LedgerStore> store;
  ASSERT_TRUE(open_sqlite_ledger_store(options_, store));
  std::int64_t t = 1'700'000'000'000;
  for (std::uint64_t seq = 1; seq <= 200; ++seq) {
    std::vector<std::int64_t> times;
    for (int i = 0; i < 50; ++i) times.push_back(t += 20);
    ApplyResult r;
    ASSERT_TRUE(store->apply_batch(RecordBatch{"a", seq, {record("acct", times)}}, r));
  }
  store.reset();
  EXPECT_EQ(raw_int("SELECT count(*) FROM access_chunks WHERE typeof(times) <> 'blob'"), 0);
  EXPECT_LE(raw_int("SELECT sum(length(times)) FROM access_chunks"), 10000 + 20);
  EXPECT_GE(raw_int("SELECT sum(length(times)) FROM access_chunks"), 10000);
  EXPECT_EQ(raw_int("SELECT sum(n) FROM access_chunks"), 10000);
  EXPECT_LE(raw_int("SELECT count(*) FROM access_chunks"), 10000 / 512 + 1);
}

}  // namespace
}  // namespace ipattrib::collector
