// What only the shared PostgreSQL alert store must do, on a real throwaway
// server: several collectors (here: several store instances, each with its
// own connections) recording overlapping hits from many threads raise one
// alert per key with exact counts, record one agent batch once, never hand
// one outbox entry to two claimers, re-claim an expired lease, run one
// retroactive scan at a time; migrations
// when collectors start together, a newer schema, a server restart, and
// living beside the ledger in one database. Behaviour both stores share is
// in ../alert_store_test.cc.
#include "collector/alerts/postgresql/postgres_alert_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "collector/alerts/postgresql/postgres_alert_schema.h"
#include "collector/ledger/postgresql/postgres_ledger_store.h"
#include "tests/support/postgres_server.h"

namespace ipattrib::collector {
namespace {

using test_support::PostgresServer;

constexpr std::int64_t kT0 = 1'760'000'000'000;
constexpr std::int64_t kHour = 3600 * 1000;

AlertHit hit(std::string measure, std::string account, const char* ip, std::uint64_t count = 1,
             std::int64_t first_ms = kT0) {
  AlertHit h;
  h.measure_id = std::move(measure);
  h.measure_title = "title";
  h.severity = Severity::kCritical;
  h.reason = "country IR";
  h.account = std::move(account);
  h.ip = *IpAddress::parse(ip);
  h.gateway = "gw1";
  h.first_access_ms = first_ms;
  h.last_access_ms = first_ms + 10;
  h.count = count;
  return h;
}

class PostgresAlertStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = test_support::shared_postgres_server(why);
    if (server_ == nullptr) GTEST_SKIP() << "skipped: no PostgreSQL server: " << why;
    database_ = test_support::fresh_database_name("pgalerts");
    ASSERT_TRUE(server_->ensure_database(database_));
  }
  // A second, third... collector: a store with its own connections.
  std::unique_ptr<AlertStore> open_collector(std::uint32_t connections = 2) {
    PostgresAlertStoreOptions options;
    options.conninfo = server_->conninfo(database_);
    options.connections = connections;
    std::unique_ptr<AlertStore> store;
    Status s = open_postgres_alert_store(options, store);
    EXPECT_TRUE(s) << s.message();
    return store;
  }
  std::string sql(const std::string& query) {
    std::string value;
    Status s = server_->execute(database_, query, &value);
    EXPECT_TRUE(s) << s.message();
    return value;
  }
  static std::vector<Alert> all_alerts(AlertStore& store) {
    AlertQuery q;
    q.limit = 10000;
    std::vector<Alert> alerts;
    bool more = false;
    EXPECT_TRUE(store.list_alerts(q, alerts, more));
    EXPECT_FALSE(more);
    return alerts;
  }

  PostgresServer* server_ = nullptr;
  std::string database_;
};

// 2 collectors x 3 threads, each recording its own agent's batches whose
// hits fall on a few shared keys: however the transactions interleave,
// each key has one alert whose count is every access and whose
// suppressed_hits is every hit but the first.
TEST_F(PostgresAlertStoreTest, CollectorsRecordingOverlappingHitsRaiseOneAlertPerKeyWithExactCounts) {
  std::vector<std::unique_ptr<AlertStore>> collectors;
  collectors.push_back(open_collector(3));
  collectors.push_back(open_collector(3));
  const std::vector<std::pair<std::string, const char*>> keys = {
      {"alice", "192.0.2.1"}, {"alice", "2001:db8::1"}, {"bob", "192.0.2.1"}, {"carol", "192.0.2.9"}};
  constexpr int kThreadsPerCollector = 3;
  constexpr int kBatches = 25;
  std::mutex mutex;
  std::map<std::string, std::uint64_t> accesses, hits;  // by account + ip
  std::vector<std::thread> threads;
  std::vector<std::string> errors;
  for (std::size_t c = 0; c < collectors.size(); ++c) {
    for (int t = 0; t < kThreadsPerCollector; ++t) {
      threads.emplace_back([&, c, t] {
        std::mt19937 rng(static_cast<unsigned>(c * 100 + t));
        const std::string agent = "agent-" + std::to_string(c) + "-" + std::to_string(t);
        for (int b = 1; b <= kBatches; ++b) {
          std::vector<AlertHit> batch;
          std::map<std::string, std::uint64_t> batch_accesses, batch_hits;
          // Keys in varying order and multiplicity, so lock order varies.
          for (int n = 0; n < 3; ++n) {
            const auto& [account, ip] = keys[rng() % keys.size()];
            const std::uint64_t count = 1 + rng() % 5;
            batch.push_back(hit("m1", account, ip, count, kT0 + static_cast<std::int64_t>(rng() % 1000)));
            batch_accesses[account + ip] += count;
            ++batch_hits[account + ip];
          }
          RecordHitsResult r;
          Status s = collectors[c]->record_hits(agent, static_cast<std::uint64_t>(b), batch, kT0 + b, kHour,
                                                {"hook"}, r);
          std::lock_guard lock(mutex);
          if (!s) {
            errors.push_back(s.message());
            continue;
          }
          for (const auto& [k, v] : batch_accesses) accesses[k] += v;
          for (const auto& [k, v] : batch_hits) hits[k] += v;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors, std::vector<std::string>{});

  const std::vector<Alert> alerts = all_alerts(*collectors[1]);
  ASSERT_EQ(alerts.size(), accesses.size()) << "one alert per (measure, account, ip)";
  std::set<std::string> seen;
  for (const Alert& a : alerts) {
    const std::string key = a.first_hit.account + a.first_hit.ip.to_string();
    EXPECT_TRUE(seen.insert(key).second) << "two alerts for " << key;
    EXPECT_EQ(a.count, accesses[key]) << key;
    EXPECT_EQ(a.suppressed_hits + 1, hits[key]) << key;
  }
  std::uint64_t depth = 0;
  ASSERT_TRUE(collectors[0]->outbox_depth("hook", depth));
  EXPECT_EQ(depth, alerts.size()) << "one delivery per alert, not per collector";
}

// An agent fails over mid-batch: both collectors record the same batches
// at once. Each batch counts exactly once, whichever collector wins it.
TEST_F(PostgresAlertStoreTest, TheSameAgentBatchRecordedByTwoCollectorsAtOnceCountsOnce) {
  auto a = open_collector();
  auto b = open_collector();
  constexpr std::uint64_t kBatches = 60;
  std::vector<std::uint64_t> recorded(2, 0);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      AlertStore& store = c == 0 ? *a : *b;
      for (std::uint64_t seq = 1; seq <= kBatches; ++seq) {
        RecordHitsResult r;
        const std::vector<AlertHit> batch = {hit("m1", "shared", "192.0.2.1", 2),
                                             hit("m1", "acct" + std::to_string(seq), "192.0.2.2")};
        if (Status s = store.record_hits("agent", seq, batch, kT0, kHour, {"hook"}, r); !s) {
          errors[static_cast<std::size_t>(c)] = s.message();
          return;
        }
        if (!r.already_evaluated) ++recorded[static_cast<std::size_t>(c)];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(recorded[0] + recorded[1], kBatches) << "each batch applied by exactly one collector";

  const std::vector<Alert> alerts = all_alerts(*a);
  ASSERT_EQ(alerts.size(), kBatches + 1);
  for (const Alert& alert : alerts) {
    if (alert.first_hit.account == "shared") {
      EXPECT_EQ(alert.count, 2 * kBatches);
      EXPECT_EQ(alert.suppressed_hits, kBatches - 1);
    } else {
      EXPECT_EQ(alert.count, 1u) << alert.first_hit.account;
    }
  }
  std::uint64_t seq = 0;
  ASSERT_TRUE(b->evaluated_sequence("agent", seq));
  EXPECT_EQ(seq, kBatches);
}

// 2 collectors x 2 delivery threads claim small batches of one sink's
// entries until none is left: every entry is handed out exactly once.
TEST_F(PostgresAlertStoreTest, ClaimersOnOneSinkNeverGetTheSameEntry) {
  auto a = open_collector(3);
  auto b = open_collector(3);
  constexpr int kAlerts = 300;
  std::vector<AlertHit> batch;
  for (int i = 0; i < kAlerts; ++i) batch.push_back(hit("m1", "acct" + std::to_string(i), "192.0.2.1"));
  RecordHitsResult created;
  ASSERT_TRUE(a->record_hits("agent", 1, batch, kT0, kHour, {"hook", "file"}, created));
  ASSERT_EQ(created.alerts_created, static_cast<std::uint64_t>(kAlerts));

  std::mutex mutex;
  std::vector<std::int64_t> claimed_ids;
  std::multiset<std::int64_t> claimed_alerts;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AlertStore& store = t % 2 == 0 ? *a : *b;
      for (;;) {
        std::vector<OutboxEntry> entries;
        if (Status s = store.claim_deliveries("hook", kT0, 60'000, 7, entries); !s) {
          std::lock_guard lock(mutex);
          errors.push_back(s.message());
          return;
        }
        if (entries.empty()) return;  // nothing due and unleased is left
        std::lock_guard lock(mutex);
        for (const OutboxEntry& e : entries) {
          EXPECT_EQ(e.sink, "hook");
          claimed_ids.push_back(e.id);
          claimed_alerts.insert(e.alert_id);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors, std::vector<std::string>{});
  EXPECT_EQ(claimed_ids.size(), static_cast<std::size_t>(kAlerts));
  EXPECT_EQ(std::set<std::int64_t>(claimed_ids.begin(), claimed_ids.end()).size(), claimed_ids.size())
      << "an entry was claimed twice";
  EXPECT_EQ(claimed_alerts, std::multiset<std::int64_t>(created.created_ids.begin(), created.created_ids.end()));
  std::uint64_t file = 0;
  ASSERT_TRUE(b->outbox_depth("file", file));
  EXPECT_EQ(file, static_cast<std::uint64_t>(kAlerts)) << "another sink's entries are not claimed";
}

// A collector claims and dies (its store is gone, its lease remains): the
// other collector gets nothing until the lease ends, then the same entries,
// with no attempt counted.
TEST_F(PostgresAlertStoreTest, ALeaseOfACollectorThatDiedExpiresAndAnotherDelivers) {
  auto survivor = open_collector();
  std::vector<OutboxEntry> held;
  {
    auto dying = open_collector();
    RecordHitsResult r;
    ASSERT_TRUE(dying->record_hits("agent", 1, {hit("m1", "a", "192.0.2.1"), hit("m1", "b", "192.0.2.1")}, kT0,
                                   kHour, {"hook"}, r));
    ASSERT_TRUE(dying->claim_deliveries("hook", kT0, 30'000, 10, held));
    ASSERT_EQ(held.size(), 2u);
  }
  std::vector<OutboxEntry> entries;
  ASSERT_TRUE(survivor->claim_deliveries("hook", kT0 + 29'999, 30'000, 10, entries));
  EXPECT_TRUE(entries.empty()) << "still leased";
  ASSERT_TRUE(survivor->claim_deliveries("hook", kT0 + 30'000, 30'000, 10, entries));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, held[0].id);
  EXPECT_EQ(entries[1].id, held[1].id);
  EXPECT_EQ(entries[0].attempts, 0u);
  EXPECT_EQ(entries[0].leased_until_ms, kT0 + 60'000);
  for (const OutboxEntry& e : entries) ASSERT_TRUE(survivor->mark_delivered(e.id));
  std::uint64_t depth = 1;
  ASSERT_TRUE(survivor->outbox_depth("hook", depth));
  EXPECT_EQ(depth, 0u);
}

// Collectors reloading the same policy change each start a retroactive
// scan. As the engine does, each scan records a key only if it has no alert
// yet; under exclusive_scan the scans run one at a time, so the later ones
// find the first one's alert and the accesses are counted once.
TEST_F(PostgresAlertStoreTest, RetroactiveScansOfSeveralCollectorsRunOneAtATime) {
  constexpr int kCollectors = 3;
  std::vector<std::unique_ptr<AlertStore>> stores;
  for (int i = 0; i < kCollectors; ++i) stores.push_back(open_collector(1));
  std::atomic<int> inside{0}, most_inside{0};
  std::vector<std::string> errors(kCollectors);
  std::vector<std::thread> scans;
  for (int i = 0; i < kCollectors; ++i) {
    scans.emplace_back([&, i] {
      AlertStore& store = *stores[static_cast<std::size_t>(i)];
      Status s = store.exclusive_scan([&] {
        const int now = ++inside;
        most_inside = std::max(most_inside.load(), now);
        std::vector<Alert> existing;
        bool more = false;
        AlertQuery q;
        q.account = "alice";
        Status r = store.list_alerts(q, existing, more);
        // Widen the window between the check and the write, as a real scan
        // of a large ledger does; without the lock the scans would overlap here.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (r && existing.empty()) {
          RecordHitsResult result;
          r = store.record_hits("", 0, {hit("m1", "alice", "192.0.2.1", 3)}, kT0, kHour, {"hook"}, result);
        }
        --inside;
        return r;
      });
      if (!s) errors[static_cast<std::size_t>(i)] = s.message();
    });
  }
  for (std::thread& t : scans) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(most_inside.load(), 1) << "two scans ran at once";
  const std::vector<Alert> alerts = all_alerts(*stores[0]);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3u) << "the scanned accesses are counted once";
  EXPECT_TRUE(alerts[0].retroactive);
}

TEST_F(PostgresAlertStoreTest, CollectorsStartingAtOnceOnAnEmptyDatabaseMigrateOnce) {
  constexpr int kCollectors = 6;
  std::vector<std::unique_ptr<AlertStore>> stores(kCollectors);
  std::vector<std::string> errors(kCollectors);
  std::vector<std::thread> starts;
  for (int i = 0; i < kCollectors; ++i) {
    starts.emplace_back([&, i] {
      PostgresAlertStoreOptions options;
      options.conninfo = server_->conninfo(database_);
      options.connections = 1;
      if (Status s = open_postgres_alert_store(options, stores[static_cast<std::size_t>(i)]); !s) {
        errors[static_cast<std::size_t>(i)] = s.message();
      }
    });
  }
  for (std::thread& t : starts) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(sql("SELECT count(*) FROM alerts_schema_version"), "1");
  EXPECT_EQ(sql("SELECT version FROM alerts_schema_version"), std::to_string(postgres_alerts_latest_version()));
  RecordHitsResult r;
  ASSERT_TRUE(stores[0]->record_hits("a", 1, {hit("m1", "x", "192.0.2.1")}, kT0, kHour, {}, r));
  Alert alert;
  bool found = false;
  ASSERT_TRUE(stores[kCollectors - 1]->get_alert(r.created_ids.at(0), alert, found));
  EXPECT_TRUE(found);
}

TEST_F(PostgresAlertStoreTest, DatabaseMigratedByANewerProgramIsRefused) {
  ASSERT_TRUE(open_collector());
  sql("UPDATE alerts_schema_version SET version = 99");
  PostgresAlertStoreOptions options;
  options.conninfo = server_->conninfo(database_);
  std::unique_ptr<AlertStore> store;
  Status s = open_postgres_alert_store(options, store);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("newer"), std::string::npos) << s.message();
  EXPECT_EQ(store, nullptr);
}

// The collectors' alerts live in the ledger's database: both stores create
// their own tables and versions there without touching each other's.
TEST_F(PostgresAlertStoreTest, SharesTheLedgersDatabase) {
  PostgresLedgerOptions ledger_options;
  ledger_options.conninfo = server_->conninfo(database_);
  ledger_options.write_connections = 1;
  std::unique_ptr<LedgerStore> ledger;
  ASSERT_TRUE(open_postgres_ledger_store(ledger_options, ledger));
  const std::string ledger_version = sql("SELECT version FROM ledger_schema_version");
  auto alerts = open_collector();
  ASSERT_TRUE(alerts);
  EXPECT_EQ(sql("SELECT version FROM ledger_schema_version"), ledger_version);
  EXPECT_EQ(sql("SELECT version FROM alerts_schema_version"), std::to_string(postgres_alerts_latest_version()));
  RecordBatch batch;
  batch.agent_id = "agent";
  batch.sequence = 1;
  AttributionRecord record;
  record.account = "x";
  record.client_ip = *IpAddress::parse("192.0.2.1");
  record.gateway = "gw1";
  record.access_times_ms = {kT0};
  batch.records.push_back(record);
  ApplyResult applied;
  ASSERT_TRUE(ledger->apply_batch(batch, applied));
  RecordHitsResult r;
  ASSERT_TRUE(alerts->record_hits("agent", 1, {hit("m1", "x", "192.0.2.1")}, kT0, kHour, {}, r));
  EXPECT_FALSE(r.already_evaluated) << "the ledger's sequence of an agent is not the alert store's";
}

// A database restart (crash, failover) breaks every connection; the store
// reconnects on the next call. Its own server, so other tests keep theirs.
TEST(PostgresAlertRestartTest, StoreReconnectsAfterTheServerRestarts) {
  std::unique_ptr<PostgresServer> server;
  if (Status s = PostgresServer::start({}, server); !s)
    GTEST_SKIP() << "skipped: no PostgreSQL server: " << s.message();
  ASSERT_TRUE(server->ensure_database("restart"));
  PostgresAlertStoreOptions options;
  options.conninfo = server->conninfo("restart");
  options.connections = 1;
  std::unique_ptr<AlertStore> store;
  ASSERT_TRUE(open_postgres_alert_store(options, store));
  RecordHitsResult r;
  ASSERT_TRUE(store->record_hits("a", 1, {hit("m1", "x", "192.0.2.1")}, kT0, kHour, {"hook"}, r));
  const std::int64_t id = r.created_ids.at(0);

  ASSERT_TRUE(server->restart());
  Status recorded = store->record_hits("a", 2, {hit("m1", "x", "192.0.2.1", 4)}, kT0 + 1, kHour, {"hook"}, r);
  EXPECT_TRUE(recorded) << recorded.message();
  EXPECT_EQ(r.hits_suppressed, 1u);
  ASSERT_TRUE(server->restart());
  std::vector<OutboxEntry> entries;
  Status claimed = store->claim_deliveries("hook", kT0 + 2, 1000, 10, entries);
  EXPECT_TRUE(claimed) << claimed.message();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].alert_id, id);
  Alert alert;
  bool found = false;
  ASSERT_TRUE(store->get_alert(id, alert, found));
  EXPECT_EQ(alert.count, 5u);
}

}  // namespace
}  // namespace ipattrib::collector
