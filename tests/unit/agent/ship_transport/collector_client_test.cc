#include "agent/ship/transport/collector_client.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
using ipattrib::testing::numbered_frame;
using tls::testing::TestPki;

class CollectorClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki({"agent-1"});
    other_pki_ = new TestPki({"agent-1"});
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete other_pki_;
  }
  void SetUp() override {
    ASSERT_TRUE(pki_->ok() && other_pki_->ok());
    path_ = pki_->dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite3";
    config_.listen = "127.0.0.1:0";
    config_.tls_ca = pki_->server().ca_file;
    config_.tls_cert = pki_->server().cert_file;
    config_.tls_key = pki_->server().key_file;
    config_.allowed_agents = {"agent-1"};
    options_.tls = pki_->agent("agent-1");
    options_.agent_id = "agent-1";
    options_.gateway = "gw-1";
    options_.connect_timeout_ms = 10000;
    options_.backoff_initial = std::chrono::milliseconds(100);
    options_.backoff_max = std::chrono::milliseconds(400);
  }
  void start_collector() {
    ASSERT_TRUE(collector::open_sqlite_ledger_store({path_}, store_));
    server_ = std::make_unique<collector::IngestServer>(config_, *store_);
    Status s = server_->start();
    ASSERT_TRUE(s) << s.message();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  static std::uint16_t closed_port() {
    tls::UniqueFd fd;
    std::uint16_t port = 0;
    EXPECT_TRUE(tls::listen_tcp({"127.0.0.1", 0}, 1, fd, port));
    return port;  // closed when fd goes
  }
  std::unique_ptr<CollectorClient> client() {
    std::unique_ptr<CollectorClient> c;
    Status s = CollectorClient::create(options_, c);
    EXPECT_TRUE(s) << s.message();
    return c;
  }
  // Sends batches [first, last] and waits for all their ACKs.
  static void ship(CollectorClient& c, std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t seq = first; seq <= last; ++seq) ASSERT_TRUE(c.send(seq, numbered_frame("agent-1", seq)));
    std::vector<std::uint64_t> acked;
    while (acked.size() < last - first + 1) {
      Status s = c.poll_acks(acked, 10000);
      ASSERT_TRUE(s) << s.message();
    }
    EXPECT_EQ(acked.front(), first);
    EXPECT_EQ(acked.back(), last);
  }

  static TestPki* pki_;
  static TestPki* other_pki_;
  std::string path_;
  collector::IngestConfig config_;
  CollectorClientOptions options_;
  std::unique_ptr<collector::LedgerStore> store_;
  std::unique_ptr<collector::IngestServer> server_;
};
TestPki* CollectorClientTest::pki_ = nullptr;
TestPki* CollectorClientTest::other_pki_ = nullptr;

TEST_F(CollectorClientTest, ShipsPipelinedBatchesAndReconnectsWhereTheLedgerStands) {
  start_collector();
  options_.collectors = {address()};
  auto c = client();
  ASSERT_TRUE(c->connect(0, 0));
  EXPECT_EQ(c->highest_committed(), 0u);
  EXPECT_EQ(c->collector_max_frame_bytes(), wire::WireLimits().max_frame_bytes);
  ship(*c, 1, 5);
  EXPECT_EQ(c->in_flight(), 0u);

  // Batches 6 and 7 sent, connection lost before their ACKs were read.
  ASSERT_TRUE(c->send(6, numbered_frame("agent-1", 6)));
  ASSERT_TRUE(c->send(7, numbered_frame("agent-1", 7)));
  EXPECT_FALSE(c->send(7, numbered_frame("agent-1", 7)));  // sequences must increase
  ASSERT_TRUE(eventually([&] { return server_->counters().batches.load() == 7; }));
  c->disconnect();
  EXPECT_FALSE(c->connected());

  ASSERT_TRUE(c->connect(6, 7));
  EXPECT_EQ(c->highest_committed(), 7u);
  ship(*c, 6, 8);  // the caller resent what it had no ACK for
  for (std::uint64_t seq = 1; seq <= 8; ++seq) EXPECT_EQ(ledger_accesses(*store_, seq), kAccessesPerBatch) << seq;
  EXPECT_EQ(server_->counters().duplicate_batches.load(), 2u);
}

TEST_F(CollectorClientTest, FailsOverToTheNextCollector) {
  start_collector();
  options_.collectors = {"127.0.0.1:" + std::to_string(closed_port()), address()};
  auto c = client();
  Status s = c->connect(0, 0);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(c->connected_collector(), address());
  ship(*c, 1, 1);
  EXPECT_EQ(ledger_accesses(*store_, 1), kAccessesPerBatch);
}

TEST_F(CollectorClientTest, BacksOffWhileNoCollectorIsReachable) {
  options_.collectors = {"127.0.0.1:" + std::to_string(closed_port())};
  auto c = client();
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_EQ(c->reconnect_delay(), std::chrono::milliseconds(100));
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_EQ(c->reconnect_delay(), std::chrono::milliseconds(200));
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_EQ(c->reconnect_delay(), std::chrono::milliseconds(400));  // capped
  EXPECT_FALSE(c->send(1, numbered_frame("agent-1", 1)));
}

TEST_F(CollectorClientTest, AgentWithCertificateFromAnotherCaIsRefused) {
  start_collector();
  options_.collectors = {address()};
  options_.tls.cert_file = other_pki_->agent("agent-1").cert_file;
  options_.tls.key_file = other_pki_->agent("agent-1").key_file;
  auto c = client();
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_FALSE(c->connected());
  EXPECT_TRUE(eventually([&] { return server_->counters().auth_failures.load() == 1; }));
}

TEST_F(CollectorClientTest, WrongAgentIdIsRefusedWithNotAuthorized) {
  start_collector();
  options_.collectors = {address()};
  options_.agent_id = "agent-2";  // the certificate says agent-1
  auto c = client();
  EXPECT_FALSE(c->connect(0, 0));
  EXPECT_EQ(c->last_error_code(), wire::WireErrorCode::kNotAuthorized);
}

TEST_F(CollectorClientTest, CollectorRefusesABadBatchAndTheClientSaysSo) {
  start_collector();
  options_.collectors = {address()};
  auto c = client();
  ASSERT_TRUE(c->connect(0, 0));
  std::vector<std::uint8_t> frame = numbered_frame("agent-1", 1);
  frame.back() ^= 0xff;
  ASSERT_TRUE(c->send(1, frame));
  std::vector<std::uint64_t> acked;
  Status s;
  while (s && c->connected()) s = c->poll_acks(acked, 10000);
  EXPECT_FALSE(s);
  EXPECT_TRUE(acked.empty());
  EXPECT_EQ(c->last_error_code(), wire::WireErrorCode::kBadBatch);
}

// The collector process dies (SIGKILL) in the middle of a stream and comes
// back on the same SQLite file: the client reconnects, resends everything
// unacknowledged, and the ledger holds every batch exactly once.
class CollectorProcess {
 public:
  CollectorProcess(const collector::IngestConfig& config, const std::string& path) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      std::unique_ptr<collector::LedgerStore> store;
      if (!collector::open_sqlite_ledger_store({path}, store)) _exit(2);
      collector::IngestServer server(config, *store);
      if (!server.start()) _exit(3);
      std::uint16_t port = server.port();
      if (write(fds[1], &port, sizeof(port)) != sizeof(port)) _exit(4);
      for (;;) pause();
    }
    close(fds[1]);
    if (read(fds[0], &port_, sizeof(port_)) != sizeof(port_)) port_ = 0;
    close(fds[0]);
  }
  ~CollectorProcess() { kill(); }
  std::uint16_t port() const { return port_; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

TEST_F(CollectorClientTest, CollectorKilledMidStreamLosesAndDoublesNothing) {
  std::uint16_t port = 0;
  auto c = std::unique_ptr<CollectorClient>();
  std::vector<std::uint64_t> unacked;  // what a spool would still hold
  {
    CollectorProcess first(config_, path_);
    ASSERT_NE(first.port(), 0);
    port = first.port();
    options_.collectors = {"127.0.0.1:" + std::to_string(port)};
    c = client();
    ASSERT_TRUE(c->connect(0, 0));
    ship(*c, 1, 10);
    for (std::uint64_t seq = 11; seq <= 30; ++seq) {  // in flight when the collector dies
      ASSERT_TRUE(c->send(seq, numbered_frame("agent-1", seq)));
      unacked.push_back(seq);
    }
    first.kill();
  }
  std::vector<std::uint64_t> acked;
  while (c->connected()) (void)c->poll_acks(acked, 10000);  // some may have been acked before the kill
  std::erase_if(unacked, [&](std::uint64_t seq) { return std::find(acked.begin(), acked.end(), seq) != acked.end(); });

  config_.listen = "127.0.0.1:" + std::to_string(port);  // back on the same address and file
  CollectorProcess second(config_, path_);
  ASSERT_EQ(second.port(), port);
  ASSERT_TRUE(c->connect(unacked.empty() ? 0 : unacked.front(), unacked.empty() ? 0 : unacked.back()));
  std::erase_if(unacked, [&](std::uint64_t seq) { return seq <= c->highest_committed(); });
  for (std::uint64_t seq : unacked) ASSERT_TRUE(c->send(seq, numbered_frame("agent-1", seq)));
  acked.clear();
  while (acked.size() < unacked.size()) ASSERT_TRUE(c->poll_acks(acked, 10000));
  EXPECT_EQ(acked, unacked);
  ship(*c, 31, 35);
  second.kill();

  ASSERT_TRUE(collector::open_sqlite_ledger_store({path_}, store_));
  for (std::uint64_t seq = 1; seq <= 35; ++seq) EXPECT_EQ(ledger_accesses(*store_, seq), kAccessesPerBatch) << seq;
  std::uint64_t highest = 0;
  ASSERT_TRUE(store_->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 35u);
}

}  // namespace
}  // namespace ipattrib::agent
