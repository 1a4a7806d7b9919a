#include "agent/ship/shipper.h"

#include <gtest/gtest.h>

#include <map>

#include "collector/ingest/ingest_server.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "common/tls/tcp_socket.h"
#include "tests/unit/collector/ingest/ingest_test_support.h"
#include "tests/unit/common/tls/test_pki.h"

namespace ipattrib::agent {
namespace {

using ipattrib::testing::eventually;
using ipattrib::testing::kAccessesPerBatch;
using ipattrib::testing::ledger_accesses;
using ipattrib::testing::numbered_batch;
using tls::testing::TestPki;

class MapSink final : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

std::map<std::string, std::uint64_t> counters_of(const Shipper& shipper) {
  MapSink sink;
  shipper.report(sink);
  return sink.values;
}

// Batch i puts kAccessesPerBatch accesses on account "acct-<i>"; the spool numbers it.
RecordBatch unnumbered_batch(std::uint64_t i) {
  RecordBatch batch = numbered_batch("", i);
  batch.sequence = 0;
  return batch;
}

class ShipperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki({"agent-1"}); }
  static void TearDownTestSuite() { delete pki_; }
  void SetUp() override {
    ASSERT_TRUE(pki_->ok());
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    path_ = pki_->dir() + "/" + name + ".sqlite3";
    config_.listen = "127.0.0.1:" + std::to_string(free_port());
    config_.tls_ca = pki_->server().ca_file;
    config_.tls_cert = pki_->server().cert_file;
    config_.tls_key = pki_->server().key_file;
    config_.allowed_agents = {"agent-1"};
    options_.spool.dir = pki_->dir() + "/" + name + ".spool";
    options_.client.collectors = {config_.listen};
    options_.client.tls = pki_->agent("agent-1");
    options_.client.agent_id = "agent-1";
    options_.client.gateway = "gw-1";
    options_.client.connect_timeout_ms = 10000;
    options_.client.backoff_initial = std::chrono::milliseconds(50);
    options_.client.backoff_max = std::chrono::milliseconds(200);
    ASSERT_TRUE(collector::open_sqlite_ledger_store({path_}, store_));
  }
  void TearDown() override { stop_collector(); }

  static std::uint16_t free_port() {
    tls::UniqueFd fd;
    std::uint16_t port = 0;
    EXPECT_TRUE(tls::listen_tcp({"127.0.0.1", 0}, 1, fd, port));
    return port;  // closed when fd goes; the collector binds it later
  }
  void start_collector() {
    server_ = std::make_unique<collector::IngestServer>(config_, *store_);
    Status s = server_->start();
    ASSERT_TRUE(s) << s.message();
  }
  void stop_collector() {
    if (server_) server_->stop();
    server_.reset();
  }
  std::unique_ptr<Shipper> shipper() {
    std::unique_ptr<Shipper> out;
    Status s = Shipper::create(options_, out);
    EXPECT_TRUE(s) << s.message();
    return out;
  }
  void offer(Shipper& s, std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t i = first; i <= last; ++i) ASSERT_TRUE(s.offer(unnumbered_batch(i))) << i;
  }
  bool ledger_has(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t i = first; i <= last; ++i) {
      if (ledger_accesses(*store_, i) == 0) return false;
    }
    return true;
  }
  void expect_exactly_once(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t i = first; i <= last; ++i) EXPECT_EQ(ledger_accesses(*store_, i), kAccessesPerBatch) << i;
  }
  std::size_t spooled_batches() {
    std::unique_ptr<DiskSpool> spool;
    Status s = DiskSpool::open(options_.spool, spool);
    EXPECT_TRUE(s) << s.message();
    return spool ? spool->batch_count() : 0;
  }

  static TestPki* pki_;
  std::string path_;
  collector::IngestConfig config_;
  ShipperOptions options_;
  std::unique_ptr<collector::LedgerStore> store_;
  std::unique_ptr<collector::IngestServer> server_;
};
TestPki* ShipperTest::pki_ = nullptr;

TEST_F(ShipperTest, OfferedBatchesArriveExactlyOnce) {
  start_collector();
  auto s = shipper();
  s->start();
  offer(*s, 1, 20);
  s->stop(std::chrono::seconds(20));  // drains: returns once everything is acknowledged
  expect_exactly_once(1, 20);
  auto c = counters_of(*s);
  EXPECT_EQ(c["ship.batches_spooled"], 20u);
  EXPECT_EQ(c["ship.queue_full_drops"], 0u);
  EXPECT_EQ(c["spool.acked"], 20u);
  EXPECT_EQ(c["spool.batches"], 0u);
  EXPECT_EQ(server_->counters().duplicate_batches.load(), 0u);
  s.reset();
  EXPECT_EQ(spooled_batches(), 0u);
}

TEST_F(ShipperTest, CollectorDownAtStartThenEverythingArrives) {
  auto s = shipper();
  s->start();
  offer(*s, 1, 10);
  ASSERT_TRUE(eventually([&] { return counters_of(*s)["ship.batches_spooled"] == 10; }));
  EXPECT_EQ(ledger_accesses(*store_, 1), 0u);
  start_collector();
  ASSERT_TRUE(eventually([&] { return ledger_has(1, 10); }));
  offer(*s, 11, 15);
  ASSERT_TRUE(eventually([&] { return ledger_has(11, 15); }));
  s->stop(std::chrono::seconds(20));
  expect_exactly_once(1, 15);
  EXPECT_GE(counters_of(*s)["ship.connect_failures"], 1u);
}

TEST_F(ShipperTest, CollectorRestartedMidStreamLosesAndDoublesNothing) {
  start_collector();
  auto s = shipper();
  s->start();
  offer(*s, 1, 100);
  ASSERT_TRUE(eventually([&] { return server_->counters().batches.load() >= 5; }));
  stop_collector();  // most likely with batches still queued, spooling or in flight
  offer(*s, 101, 120);
  ASSERT_TRUE(eventually([&] { return counters_of(*s)["ship.batches_spooled"] == 120; }));
  start_collector();  // same address, same SQLite file
  ASSERT_TRUE(eventually([&] { return ledger_has(1, 120); }));
  s->stop(std::chrono::seconds(20));
  expect_exactly_once(1, 120);
  std::uint64_t highest = 0;
  ASSERT_TRUE(store_->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 120u);
  s.reset();
  EXPECT_EQ(spooled_batches(), 0u);
}

TEST_F(ShipperTest, StoppedWithCollectorDownKeepsTheSpoolForTheNextStart) {
  {
    auto s = shipper();
    s->start();
    offer(*s, 1, 8);
    s->stop(std::chrono::milliseconds(100));
    EXPECT_EQ(counters_of(*s)["ship.batches_spooled"], 8u);
    EXPECT_FALSE(s->offer(unnumbered_batch(9)));  // stopped: refused and counted
    EXPECT_EQ(counters_of(*s)["ship.offers_after_stop"], 1u);
  }
  EXPECT_EQ(spooled_batches(), 8u);
  start_collector();
  auto s = shipper();
  s->start();
  offer(*s, 10, 12);
  ASSERT_TRUE(eventually([&] { return ledger_has(1, 8) && ledger_has(10, 12); }));
  s->stop(std::chrono::seconds(20));
  expect_exactly_once(1, 8);
  expect_exactly_once(10, 12);
  EXPECT_EQ(ledger_accesses(*store_, 9), 0u);
  std::uint64_t highest = 0;
  ASSERT_TRUE(store_->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 11u);  // sequences continued across the restart
}

TEST_F(ShipperTest, BatchTheCollectorRefusesIsDroppedAndTheRestArrive) {
  {
    // A batch that passes the spool's checks but not the collector's decoder.
    std::unique_ptr<DiskSpool> spool;
    ASSERT_TRUE(DiskSpool::open(options_.spool, spool));
    std::vector<std::uint8_t> bad = ipattrib::testing::numbered_frame("agent-1", 1);
    bad.back() ^= 0xff;
    ASSERT_TRUE(spool->append(spool->next_sequence(), bad, kAccessesPerBatch));
  }
  start_collector();
  auto s = shipper();
  s->start();
  offer(*s, 2, 4);
  ASSERT_TRUE(eventually([&] { return ledger_has(2, 4); }));
  s->stop(std::chrono::seconds(20));
  expect_exactly_once(2, 4);
  EXPECT_EQ(ledger_accesses(*store_, 1), 0u);
  auto c = counters_of(*s);
  EXPECT_EQ(c["ship.batches_refused"], 1u);
  EXPECT_EQ(c["spool.dropped_batches"], 1u);
  EXPECT_EQ(c["spool.dropped_accesses"], std::uint64_t{kAccessesPerBatch});
  EXPECT_EQ(c["spool.batches"], 0u);
}

TEST_F(ShipperTest, FullQueueDropsAndCountsTheBatch) {
  options_.queue_capacity = 2;
  auto s = shipper();  // not started: nothing drains the queue
  offer(*s, 1, 2);
  EXPECT_FALSE(s->offer(unnumbered_batch(3)));
  EXPECT_FALSE(s->offer(unnumbered_batch(4)));
  auto c = counters_of(*s);
  EXPECT_EQ(c["ship.queue_full_drops"], 2u);
  EXPECT_EQ(c["ship.queue_full_dropped_accesses"], 2u * kAccessesPerBatch);
  s->stop(std::chrono::milliseconds(0));  // queued batches still reach the spool
  EXPECT_EQ(counters_of(*s)["ship.batches_spooled"], 2u);
  s.reset();
  EXPECT_EQ(spooled_batches(), 2u);
}

// Offline replay: a producer far faster than the shipper waits for room
// instead of dropping (found by bench/collector_ingest.sh, which lost 73% of
// a 100k-request replay to queue-full drops before this option).
TEST_F(ShipperTest, WaitWhenFullLosesNothingToAFastProducer) {
  start_collector();
  options_.queue_capacity = 2;
  options_.wait_when_full = true;
  auto s = shipper();
  s->start();
  offer(*s, 1, 60);
  s->stop(std::chrono::seconds(30));
  expect_exactly_once(1, 60);
  auto c = counters_of(*s);
  EXPECT_EQ(c["ship.queue_full_drops"], 0u);
  EXPECT_EQ(c["ship.batches_spooled"], 60u);
}

TEST_F(ShipperTest, RejectsZeroCapacity) {
  options_.queue_capacity = 0;
  std::unique_ptr<Shipper> out;
  EXPECT_FALSE(Shipper::create(options_, out));
  EXPECT_EQ(out, nullptr);
}

// SIGHUP with a new collector list: the connection to a collector no longer
// listed closes, the shipper goes to the new one, nothing is lost or doubled.
TEST_F(ShipperTest, ReloadTransportMovesToTheNewCollectorList) {
  start_collector();
  collector::IngestConfig second_config = config_;
  second_config.listen = "127.0.0.1:" + std::to_string(free_port());
  collector::IngestServer second(second_config, *store_);
  ASSERT_TRUE(second.start());
  auto s = shipper();
  s->start();
  offer(*s, 1, 10);
  ASSERT_TRUE(eventually([&] { return ledger_has(1, 10); }));

  Status reloaded = s->reload_transport({second_config.listen}, pki_->agent("agent-1"));
  ASSERT_TRUE(reloaded) << reloaded.message();
  stop_collector();  // the first collector goes away: only the reload lets 11..20 arrive
  offer(*s, 11, 20);
  s->stop(std::chrono::seconds(20));
  second.stop();
  expect_exactly_once(1, 20);
  EXPECT_EQ(counters_of(*s)["ship.reloads"], 1u);
  s.reset();  // releases the spool's lock
  EXPECT_EQ(spooled_batches(), 0u);
}

TEST_F(ShipperTest, ReloadTransportWithBadFilesChangesNothing) {
  start_collector();
  auto s = shipper();
  s->start();
  tls::TlsFiles missing = pki_->agent("agent-1");
  missing.key_file = pki_->dir() + "/no-such-key.pem";
  EXPECT_FALSE(s->reload_transport({config_.listen}, missing));
  EXPECT_FALSE(s->reload_transport({"no-port"}, pki_->agent("agent-1")));
  EXPECT_FALSE(s->reload_transport({}, pki_->agent("agent-1")));
  offer(*s, 1, 5);
  s->stop(std::chrono::seconds(20));
  expect_exactly_once(1, 5);
  EXPECT_EQ(counters_of(*s)["ship.reloads"], 0u);
}

}  // namespace
}  // namespace ipattrib::agent
