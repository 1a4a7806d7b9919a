// What only the shared PostgreSQL store must do, on a real throwaway server:
// several collectors (here: several store instances, each with its own
// connections) applying the same agent batches exactly once, starting at
// once on an empty database, CIDR lookups over the GiST index, the password
// path, and refusing a newer schema. The behaviour both stores share is in
// ../ledger_store_test.cc.
#include "collector/ledger/postgresql/postgres_ledger_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/ledger_store_factory.h"
#include "collector/ledger/postgresql/postgres_schema.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "tests/support/postgres_server.h"

namespace ipattrib::collector {
namespace {

using test_support::PostgresServer;

AttributionRecord record(std::string account, const IpAddress& ip, std::vector<std::int64_t> times) {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = ip;
  r.gateway = "gw1";
  r.geo.country = "US";
  r.access_times_ms = std::move(times);
  return r;
}

AttributionRecord record(std::string account, const char* ip, std::vector<std::int64_t> times) {
  return record(std::move(account), *IpAddress::parse(ip), std::move(times));
}

RecordBatch batch(std::string agent, std::uint64_t sequence, std::vector<AttributionRecord> records) {
  RecordBatch b;
  b.agent_id = std::move(agent);
  b.sequence = sequence;
  b.records = std::move(records);
  return b;
}

// Milliseconds since the epoch of a UTC date and time in 2024.
std::int64_t at(unsigned month, unsigned day, int hour = 0, int minute = 0) {
  using namespace std::chrono;
  const sys_days date = year(2024) / month / day;
  return duration_cast<milliseconds>(date.time_since_epoch() + hours(hour) + minutes(minute)).count();
}

class PostgresLedgerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = test_support::shared_postgres_server(why);
    if (server_ == nullptr) GTEST_SKIP() << "skipped: no PostgreSQL server: " << why;
    database_ = test_support::fresh_database_name("pgledger");
    ASSERT_TRUE(server_->ensure_database(database_));
  }
  // A second, third... collector: a store with its own connections.
  std::unique_ptr<LedgerStore> open_collector() {
    PostgresLedgerOptions options;
    options.conninfo = server_->conninfo(database_);
    options.write_connections = 2;
    std::unique_ptr<LedgerStore> store;
    Status s = open_postgres_ledger_store(options, store);
    EXPECT_TRUE(s) << s.message();
    return store;
  }
  std::string sql(const std::string& query) {
    std::string value;
    Status s = server_->execute(database_, query, &value);
    EXPECT_TRUE(s) << s.message();
    return value;
  }
  std::size_t accesses_of(LedgerStore& store, const std::string& account) {
    AccountExport out;
    EXPECT_TRUE(store.export_account(account, out));
    return out.accesses.size();
  }

  // The SQLite store: the reference for what retention must leave, since
  // it deletes row by row.
  std::unique_ptr<LedgerStore> open_sqlite_reference() {
    const std::string path = server_->directory() + "/reference-" + database_ + ".sqlite3";
    std::filesystem::remove(path);
    SqliteLedgerOptions options;
    options.path = path;
    std::unique_ptr<LedgerStore> store;
    Status s = open_sqlite_ledger_store(options, store);
    EXPECT_TRUE(s) << s.message();
    return store;
  }
  void apply_to(const std::vector<LedgerStore*>& stores, const RecordBatch& b) {
    for (LedgerStore* store : stores) {
      ApplyResult r;
      Status s = store->apply_batch(b, r);
      ASSERT_TRUE(s) << s.message();
      EXPECT_FALSE(r.duplicate);
    }
  }
  void expect_same_export(LedgerStore& a, LedgerStore& b, const std::string& account) {
    AccountExport x, y;
    ASSERT_TRUE(a.export_account(account, x));
    ASSERT_TRUE(b.export_account(account, y));
    EXPECT_EQ(x.ips, y.ips) << account;
    EXPECT_EQ(x.accesses, y.accesses) << account;
  }
  std::string month_partitions() { return sql("SELECT string_agg(name, ',' ORDER BY lo) FROM ledger_chunk_partitions"); }
  std::string attached_partitions() {
    return sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ledger_access_chunks'::regclass");
  }

  PostgresServer* server_ = nullptr;
  std::string database_;
};

// Retention drops whole months and leaves exactly what the row-deleting
// SQLite store leaves: the same accesses, summaries with the same whole-life
// counts and first sights, the same counts of what went.
TEST_F(PostgresLedgerStoreTest, RetentionDropsWholeMonthsAndLeavesWhatTheRowPathLeaves) {
  auto pg = open_collector();
  auto lite = open_sqlite_reference();
  ASSERT_TRUE(pg && lite);
  const std::vector<LedgerStore*> both = {pg.get(), lite.get()};
  // acct-a's March chunk runs into April: its month must not be dropped
  // while the cutoff is inside the chunk.
  apply_to(both, batch("a", 1,
                       {record("acct-a", "192.0.2.1", {at(1, 5), at(2, 10), at(3, 31, 23, 30), at(4, 1, 0, 20)}),
                        record("acct-b", "192.0.2.2", {at(1, 20)})}));
  AttributionRecord admin = record("acct-c", "2001:db8::3", {at(4, 10), at(5, 3)});
  admin.access_class = RecordClass::kAdmin;
  apply_to(both, batch("a", 2, {admin, record("acct-a", "192.0.2.1", {at(6, 1)})}));
  EXPECT_EQ(month_partitions(),
            "ledger_access_chunks_202401,ledger_access_chunks_202402,ledger_access_chunks_202403,"
            "ledger_access_chunks_202404,ledger_access_chunks_202405,ledger_access_chunks_202406");
  EXPECT_EQ(attached_partitions(), "8");  // six months and the two out-of-range ones

  const std::int64_t cutoff = at(4, 1, 0, 10);
  RetentionResult from_pg, from_lite;
  ASSERT_TRUE(pg->apply_retention(cutoff, from_pg));
  ASSERT_TRUE(lite->apply_retention(cutoff, from_lite));
  EXPECT_EQ(from_pg.accesses_deleted, 4u);  // Jan 5, Feb 10, Jan 20, Mar 31 23:30
  EXPECT_EQ(from_pg.summaries_deleted, 1u);  // acct-b
  EXPECT_EQ(from_pg.accesses_deleted, from_lite.accesses_deleted);
  EXPECT_EQ(from_pg.summaries_deleted, from_lite.summaries_deleted);
  // January and February dropped; March kept for its straddling chunk,
  // which the row path trimmed (and moved to April).
  EXPECT_EQ(month_partitions(),
            "ledger_access_chunks_202403,ledger_access_chunks_202404,ledger_access_chunks_202405,"
            "ledger_access_chunks_202406");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_access_chunks_202403"), "0");
  for (const char* account : {"acct-a", "acct-b", "acct-c"}) expect_same_export(*pg, *lite, account);
  AccountExport a;
  ASSERT_TRUE(pg->export_account("acct-a", a));
  ASSERT_EQ(a.ips.size(), 1u);
  EXPECT_EQ(a.ips[0].access_count, 5u);
  EXPECT_EQ(a.ips[0].first_seen_ms, at(1, 5));
  ASSERT_EQ(a.accesses.size(), 2u);
  EXPECT_EQ(a.accesses[0].time_ms, at(4, 1, 0, 20));

  // The emptied March goes at the next pass, deleting nothing more.
  ASSERT_TRUE(pg->apply_retention(cutoff, from_pg));
  ASSERT_TRUE(lite->apply_retention(cutoff, from_lite));
  EXPECT_EQ(from_pg.accesses_deleted, 0u);
  EXPECT_EQ(from_pg.summaries_deleted, 0u);
  EXPECT_EQ(from_lite.accesses_deleted, 0u);
  EXPECT_EQ(month_partitions(),
            "ledger_access_chunks_202404,ledger_access_chunks_202405,ledger_access_chunks_202406");
  EXPECT_EQ(attached_partitions(), "5");

  // An access from a dropped month arriving late (a replayed spool) gets
  // its partition back; later months keep taking appends.
  apply_to(both, batch("a", 3, {record("acct-a", "192.0.2.1", {at(2, 11), at(6, 1, 0, 1)})}));
  for (const char* account : {"acct-a", "acct-b", "acct-c"}) expect_same_export(*pg, *lite, account);
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_chunk_partitions"), "4");
}

// Another collector's retention dropped a month this collector believes
// exists: the insert finds no partition, and the batch is applied again
// after creating it, exactly once.
TEST_F(PostgresLedgerStoreTest, AMonthDroppedByAnotherCollectorIsCreatedAgain) {
  auto a = open_collector();
  auto b = open_collector();
  ASSERT_TRUE(a && b);
  ApplyResult r;
  ASSERT_TRUE(b->apply_batch(batch("agent-1", 1, {record("acct", "192.0.2.1", {at(1, 5)})}), r));
  RetentionResult gone;
  ASSERT_TRUE(a->apply_retention(at(2, 1), gone));
  EXPECT_EQ(gone.accesses_deleted, 1u);
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_chunk_partitions"), "0");
  Status s = b->apply_batch(batch("agent-1", 2, {record("acct", "192.0.2.1", {at(1, 6)})}), r);
  ASSERT_TRUE(s) << s.message();
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(month_partitions(), "ledger_access_chunks_202401");
  EXPECT_EQ(accesses_of(*a, "acct"), 1u);
  std::uint64_t highest = 0;
  ASSERT_TRUE(a->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 2u);
}

// Two collectors needing the same new months at the same moment: each
// month is created once and no batch fails.
TEST_F(PostgresLedgerStoreTest, CollectorsCreatingTheSameMonthsAtOnceBothSucceed) {
  auto a = open_collector();
  auto b = open_collector();
  ASSERT_TRUE(a && b);
  std::atomic<int> failures{0};
  auto run = [&](LedgerStore& store, const std::string& agent) {
    for (unsigned month = 1; month <= 12; ++month) {
      ApplyResult r;
      if (!store.apply_batch(batch(agent, month, {record("acct-" + agent, "192.0.2.1", {at(month, 3)})}), r)) {
        ++failures;
      }
    }
  };
  std::thread ta([&] { run(*a, "a"); });
  std::thread tb([&] { run(*b, "b"); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_chunk_partitions"), "12");
  EXPECT_EQ(accesses_of(*a, "acct-a"), 12u);
  EXPECT_EQ(accesses_of(*a, "acct-b"), 12u);
}

// Times a broken clock produces (before year 1, after 9999) land in the
// fixed out-of-range partitions and read back like any other.
TEST_F(PostgresLedgerStoreTest, TimesOutsideTheCalendarRangeAreKept) {
  auto store = open_collector();
  const std::int64_t far_past = -62135596800000 - 1000;     // 1 BC
  const std::int64_t far_future = 253402300800000 + 1000;   // year 10000
  ApplyResult r;
  Status s = store->apply_batch(batch("a", 1, {record("acct", "192.0.2.1", {far_past, -1, 0, far_future})}), r);
  ASSERT_TRUE(s) << s.message();
  AccountExport out;
  ASSERT_TRUE(store->export_account("acct", out));
  std::vector<std::int64_t> times;
  for (const Access& access : out.accesses) times.push_back(access.time_ms);
  EXPECT_EQ(times, (std::vector<std::int64_t>{far_past, -1, 0, far_future}));
  EXPECT_EQ(month_partitions(), "ledger_access_chunks_196912,ledger_access_chunks_197001");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_access_chunks_before_year_1"), "1");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_access_chunks_from_year_10000"), "1");
}

// A database written by the version-1 program (one unpartitioned chunk
// table) keeps every access through the migration: the same answers as a
// store that was fed the same batches, new batches append after the old
// chunks' ids, and retention drops the migrated months.
TEST_F(PostgresLedgerStoreTest, AVersion1DatabaseKeepsItsDataThroughThePartitioningMigration) {
  {
    PostgresConnection c;
    ASSERT_TRUE(c.connect(server_->conninfo(database_), ""));
    Status s = migrate_postgres_ledger(c, 1);
    ASSERT_TRUE(s) << s.message();
  }
  // The rows the version-1 store wrote for these two batches.
  AttributionRecord admin = record("acct", "2001:db8::2", {at(2, 10), at(2, 10) + 5});
  admin.access_class = RecordClass::kAdmin;
  const RecordBatch first = batch("agent-v1", 7,
                                  {record("acct", "192.0.2.1", {at(1, 1), at(1, 1) + 10, at(1, 1) + 20}), admin});
  const RecordBatch second = batch("agent-v1", 8, {record("acct", "192.0.2.1", {at(3, 5)})});
  auto chunk = [&](int summary, std::vector<std::int64_t> times) {
    std::string bytes;
    encode_access_times(times.front(), times, bytes);
    std::string hex;
    for (unsigned char ch : bytes) hex += fmt::format("{:02x}", ch);
    return fmt::format("({}, 1, {}, {}, {}, '\\x{}'::bytea)", summary, times.front(), times.back(), times.size(), hex);
  };
  auto summary = [](const char* ip, int cls, std::int64_t first_ms, std::int64_t last_ms, int count) {
    return fmt::format("('\\x61636374'::bytea, '{}', {}, 0, {}, {}, {}, '\\x5553', '', '', 0, '', 0, 0, "
                       "'\\x5553', '', '', 0, '', 0, 0, '')", ip, cls, first_ms, last_ms, count);
  };
  sql("INSERT INTO ledger_gateways (name) VALUES ('\\x677731'::bytea)");
  sql("INSERT INTO ledger_summaries (account, ip, access_class, ip_source, first_seen_ms, last_seen_ms, "
      "access_count, f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, "
      "f_db_build_epoch, l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, "
      "l_db_build_epoch, last_principal) VALUES " +
      summary("192.0.2.1", 0, at(1, 1), at(3, 5), 4) + ", " + summary("2001:db8::2", 1, at(2, 10), at(2, 10) + 5, 2));
  sql("INSERT INTO ledger_summary_gateways VALUES (1, 1), (2, 1)");
  sql("INSERT INTO ledger_access_chunks (summary_id, gateway_id, first_ms, last_ms, n, times) VALUES " +
      chunk(1, {at(1, 1), at(1, 1) + 10, at(1, 1) + 20}) + ", " + chunk(2, {at(2, 10), at(2, 10) + 5}) + ", " +
      chunk(1, {at(3, 5)}));
  sql("INSERT INTO ledger_agent_sequences (agent_id, highest_sequence) VALUES ('\\x6167656e742d7631'::bytea, 8)");

  auto pg = open_collector();
  auto lite = open_sqlite_reference();
  ASSERT_TRUE(pg && lite);
  EXPECT_EQ(sql("SELECT version FROM ledger_schema_version"), "2");
  EXPECT_EQ(sql("SELECT to_regclass('ledger_access_chunks_v1') IS NULL"), "t");
  EXPECT_EQ(month_partitions(),
            "ledger_access_chunks_202401,ledger_access_chunks_202402,ledger_access_chunks_202403");
  apply_to({lite.get()}, first);
  apply_to({lite.get()}, second);
  expect_same_export(*pg, *lite, "acct");
  std::uint64_t highest = 0;
  ASSERT_TRUE(pg->highest_sequence("agent-v1", highest));
  EXPECT_EQ(highest, 8u);
  ApplyResult r;
  ASSERT_TRUE(pg->apply_batch(second, r));
  EXPECT_TRUE(r.duplicate);

  // New chunks take ids after the migrated ones; the March chunk takes an append.
  const RecordBatch third = batch("agent-v1", 9,
                                  {record("acct", "192.0.2.1", {at(3, 5) + 1, at(4, 2)}), record("new", "192.0.2.9", {at(4, 3)})});
  apply_to({pg.get(), lite.get()}, third);
  expect_same_export(*pg, *lite, "acct");
  expect_same_export(*pg, *lite, "new");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_access_chunks"), "5");

  RetentionResult from_pg, from_lite;
  ASSERT_TRUE(pg->apply_retention(at(3, 1), from_pg));
  ASSERT_TRUE(lite->apply_retention(at(3, 1), from_lite));
  EXPECT_EQ(from_pg.accesses_deleted, 5u);
  EXPECT_EQ(from_pg.summaries_deleted, 1u);  // the admin IP, last seen in February
  EXPECT_EQ(from_pg.accesses_deleted, from_lite.accesses_deleted);
  EXPECT_EQ(from_pg.summaries_deleted, from_lite.summaries_deleted);
  EXPECT_EQ(month_partitions(), "ledger_access_chunks_202403,ledger_access_chunks_202404");
  expect_same_export(*pg, *lite, "acct");
}

// Two collectors receive the same retransmitted batches (an agent failing
// over mid-stream) at the same moment: each batch is applied by exactly one.
TEST_F(PostgresLedgerStoreTest, TwoCollectorsApplyingTheSameBatchAtOnceApplyItOnce) {
  auto a = open_collector();
  auto b = open_collector();
  ASSERT_TRUE(a && b);
  constexpr std::uint64_t kBatches = 60;
  std::atomic<int> applied{0}, duplicates{0}, failures{0};
  auto run = [&](LedgerStore& store) {
    for (std::uint64_t seq = 1; seq <= kBatches; ++seq) {
      const auto t = static_cast<std::int64_t>(seq);
      RecordBatch same = batch(
          "agent-1", seq,
          {record("shared", "192.0.2.1", {t}), record("acct-" + std::to_string(seq % 7), "2001:db8::7", {t, t + 1})});
      ApplyResult r;
      if (!store.apply_batch(same, r)) {
        ++failures;
      } else if (r.duplicate) {
        ++duplicates;
      } else {
        ++applied;
      }
    }
  };
  std::thread ta([&] { run(*a); });
  std::thread tb([&] { run(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(kBatches));
  EXPECT_EQ(duplicates.load(), static_cast<int>(kBatches));
  EXPECT_EQ(accesses_of(*a, "shared"), kBatches);
  EXPECT_EQ(accesses_of(*b, "shared"), kBatches);
  std::size_t per_account = 0;
  for (int k = 0; k < 7; ++k) per_account += accesses_of(*a, "acct-" + std::to_string(k));
  EXPECT_EQ(per_account, 2 * kBatches);
  std::uint64_t highest = 0;
  ASSERT_TRUE(b->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, kBatches);
}

// The failover case in order: collector A applied and acknowledged (or
// crashed before acknowledging); the agent resends to collector B.
TEST_F(PostgresLedgerStoreTest, RetransmissionToAnotherCollectorIsADuplicate) {
  auto a = open_collector();
  auto b = open_collector();
  ASSERT_TRUE(a && b);
  const RecordBatch first = batch("agent-1", 1, {record("acct", "198.51.100.4", {10, 20})});
  const RecordBatch second = batch("agent-1", 2, {record("acct", "198.51.100.4", {30})});
  ApplyResult r;
  ASSERT_TRUE(a->apply_batch(first, r));
  EXPECT_FALSE(r.duplicate);
  ASSERT_TRUE(b->apply_batch(first, r));
  EXPECT_TRUE(r.duplicate);
  ASSERT_TRUE(b->apply_batch(second, r));
  EXPECT_FALSE(r.duplicate);
  ASSERT_TRUE(a->apply_batch(second, r));
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(accesses_of(*a, "acct"), 3u);
  Page<IpSummary> page;
  AccountIpsQuery q;
  q.account = "acct";
  ASSERT_TRUE(b->account_ips(q, page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].access_count, 3u);
}

// Collectors of several agents writing the same accounts at once, with
// records in different orders: no deadlock surfaces, nothing is lost.
TEST_F(PostgresLedgerStoreTest, CollectorsWritingTheSameAccountsConcurrentlyLoseNothing) {
  std::vector<std::unique_ptr<LedgerStore>> collectors;
  for (int i = 0; i < 3; ++i) collectors.push_back(open_collector());
  std::atomic<int> failures{0};
  std::vector<std::thread> agents;
  for (int agent = 0; agent < 6; ++agent) {
    agents.emplace_back([&, agent] {
      std::mt19937 rng(static_cast<unsigned>(agent));
      for (std::uint64_t seq = 1; seq <= 25; ++seq) {
        std::vector<AttributionRecord> records;
        for (int k = 0; k < 8; ++k) records.push_back(record("acct-" + std::to_string(k), "192.0.2.9", {1000}));
        std::shuffle(records.begin(), records.end(), rng);
        ApplyResult r;
        LedgerStore& store = *collectors[(static_cast<std::size_t>(agent) + seq) % collectors.size()];
        if (!store.apply_batch(batch("agent-" + std::to_string(agent), seq, records), r) || r.duplicate) ++failures;
      }
    });
  }
  for (std::thread& t : agents) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(accesses_of(*collectors[0], "acct-" + std::to_string(k)), 6u * 25u);
}

TEST_F(PostgresLedgerStoreTest, CollectorsStartingAtOnceOnAnEmptyDatabaseMigrateOnce) {
  constexpr int kCollectors = 8;
  std::vector<std::unique_ptr<LedgerStore>> stores(kCollectors);
  std::vector<std::string> errors(kCollectors);
  std::vector<std::thread> starts;
  for (int i = 0; i < kCollectors; ++i) {
    starts.emplace_back([&, i] {
      PostgresLedgerOptions options;
      options.conninfo = server_->conninfo(database_);
      options.write_connections = 1;
      if (Status s = open_postgres_ledger_store(options, stores[static_cast<std::size_t>(i)]); !s) {
        errors[static_cast<std::size_t>(i)] = s.message();
      }
    });
  }
  for (std::thread& t : starts) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_schema_version"), "1");
  EXPECT_EQ(sql("SELECT version FROM ledger_schema_version"), "2");
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_chunk_partitions"), "0");
  ApplyResult r;
  ASSERT_TRUE(stores[0]->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {1})}), r));
  bool exists = false;
  ASSERT_TRUE(stores[kCollectors - 1]->account_exists("x", exists));
  EXPECT_TRUE(exists);
}

TEST_F(PostgresLedgerStoreTest, DatabaseMigratedByANewerProgramIsRefused) {
  ASSERT_TRUE(open_collector());
  sql("UPDATE ledger_schema_version SET version = 99");
  PostgresLedgerOptions options;
  options.conninfo = server_->conninfo(database_);
  std::unique_ptr<LedgerStore> store;
  Status s = open_postgres_ledger_store(options, store);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
}

// Ids that would be SQL if spliced into a statement are stored byte for
// byte (bytea) and leave the schema alone.
TEST_F(PostgresLedgerStoreTest, HostileAccountIdsStayData) {
  auto store = open_collector();
  const std::vector<std::string> hostile = {"x'); DROP TABLE ledger_summaries; --", "\\x41\\\\\"{},",
                                            std::string("a\0b", 3), "\xc3\x28 bad utf-8"};
  std::vector<AttributionRecord> records;
  for (const std::string& account : hostile) records.push_back(record(account, "192.0.2.1", {1}));
  ApplyResult r;
  ASSERT_TRUE(store->apply_batch(batch("agent\"}{,'", 1, records), r));
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_summaries"), std::to_string(hostile.size()));
  EXPECT_EQ(sql("SELECT count(*) FROM ledger_summaries WHERE account = '\\x610062'::bytea"), "1");
  for (const std::string& account : hostile) {
    AccountIpsQuery q;
    q.account = account;
    Page<IpSummary> page;
    ASSERT_TRUE(store->account_ips(q, page));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].account, account);
  }
  std::uint64_t highest = 0;
  ASSERT_TRUE(store->highest_sequence("agent\"}{,'", highest));
  EXPECT_EQ(highest, 1u);
}

// Random v4 and v6 addresses against random networks: the store returns
// exactly the brute-force answer, in (ip, account) order; and the lookup
// can use the GiST index.
TEST_F(PostgresLedgerStoreTest, CidrLookupsEqualBruteForceForV4AndV6) {
  auto store = open_collector();
  std::mt19937_64 rng(7);
  std::vector<IpAddress> addresses;
  for (int i = 0; i < 400; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (auto& byte : b) byte = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : (rng() % 3));  // clustered
    if (i % 2 == 0) {
      addresses.push_back(IpAddress::from_v4_bytes(b.data()));
    } else {
      b[0] = 0x20;
      b[1] = 0x01;
      addresses.push_back(IpAddress::from_v6_bytes(b.data()));
    }
  }
  std::vector<AttributionRecord> records;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    records.push_back(record("acct-" + std::to_string(i % 13), addresses[i], {static_cast<std::int64_t>(i)}));
  }
  ApplyResult r;
  ASSERT_TRUE(store->apply_batch(batch("a", 1, records), r));
  for (int i = 0; i < 200; ++i) {
    const IpAddress& base = addresses[rng() % addresses.size()];
    const int max_prefix = base.is_v4() ? 32 : 128;
    const int prefix = static_cast<int>(rng() % static_cast<std::uint64_t>(max_prefix + 1));
    const Cidr cidr = *Cidr::parse(base.to_string() + "/" + std::to_string(prefix));
    std::vector<std::pair<IpAddress, std::string>> expected;
    for (const AttributionRecord& rec : records) {
      if (cidr.contains(rec.client_ip)) expected.emplace_back(rec.client_ip, rec.account);
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    NetworkAccountsQuery q;
    q.network = cidr;
    q.limit = 1000;
    Page<IpSummary> page;
    ASSERT_TRUE(store->network_accounts(q, page));
    std::vector<std::pair<IpAddress, std::string>> got;
    for (const IpSummary& s : page.items) got.emplace_back(s.ip, s.account);
    EXPECT_EQ(got, expected) << cidr.to_string();
  }
  sql("ANALYZE ledger_summaries");
  std::string plan;
  ASSERT_TRUE(server_->execute(database_,
                               "SET enable_seqscan = off; EXPLAIN SELECT id FROM ledger_summaries "
                               "WHERE ip <<= '10.1.0.0/16'::inet",
                               &plan));
  EXPECT_NE(plan.find("ledger_summaries_by_ip"), std::string::npos) << plan;
}

// A database restart (crash, failover) breaks every connection; the store
// reconnects on the next call instead of failing until the collector
// restarts. Its own server, so other tests keep theirs.
TEST(PostgresLedgerRestartTest, StoreReconnectsAfterTheServerRestarts) {
  std::unique_ptr<PostgresServer> server;
  if (Status s = PostgresServer::start({}, server); !s)
    GTEST_SKIP() << "skipped: no PostgreSQL server: " << s.message();
  ASSERT_TRUE(server->ensure_database("restart"));
  PostgresLedgerOptions options;
  options.conninfo = server->conninfo("restart");
  options.write_connections = 1;
  std::unique_ptr<LedgerStore> store;
  ASSERT_TRUE(open_postgres_ledger_store(options, store));
  ApplyResult r;
  ASSERT_TRUE(store->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {1})}), r));
  bool exists = false;
  ASSERT_TRUE(store->account_exists("x", exists));

  ASSERT_TRUE(server->restart());
  Status applied = store->apply_batch(batch("a", 2, {record("x", "192.0.2.1", {2})}), r);
  EXPECT_TRUE(applied) << applied.message();
  EXPECT_FALSE(r.duplicate);
  Status read = store->account_exists("x", exists);
  EXPECT_TRUE(read) << read.message();
  EXPECT_TRUE(exists);
  std::uint64_t highest = 0;
  ASSERT_TRUE(store->highest_sequence("a", highest));
  EXPECT_EQ(highest, 2u);
  AccountExport out;
  ASSERT_TRUE(store->export_account("x", out));
  EXPECT_EQ(out.accesses.size(), 2u);
}

// The password reaches the server from postgresql_password_file (scram over
// TCP), and a wrong one fails without appearing in the error.
TEST_F(PostgresLedgerStoreTest, PasswordComesFromTheFileAndIsNeverInErrors) {
  const std::string file = server_->directory() + "/collector-password-" + database_;
  LedgerConfig config;
  config.store = LedgerStoreKind::kPostgresql;
  config.postgresql_dsn = server_->tcp_conninfo(database_);
  config.postgresql_password_file = file;
  config.postgresql_connections = 1;
  std::ofstream(file) << server_->password() << "\n";
  std::unique_ptr<LedgerStore> store;
  Status s = open_ledger_store(config, store);
  ASSERT_TRUE(s) << s.message();
  ApplyResult r;
  EXPECT_TRUE(store->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {1})}), r));

  std::ofstream(file) << "wrong-Pa55word-value\n";
  store.reset();
  s = open_ledger_store(config, store);
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message().find("wrong-Pa55word"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("password authentication failed"), std::string::npos) << s.message();
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace ipattrib::collector
