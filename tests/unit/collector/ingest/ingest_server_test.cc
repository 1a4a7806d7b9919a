#include "collector/ingest/ingest_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "common/tls/frame_stream.h"
#include "common/tls/tcp_socket.h"
#include "common/tls/tls_stream.h"
#include "ipattrib/stats_line.h"
#include "ipattrib/wire/control_messages.h"
#include "tests/unit/collector/ingest/ingest_test_support.h"
#include "tests/unit/common/tls/test_pki.h"

namespace ipattrib::collector {
namespace {

using ipattrib::testing::eventually;
using ipattrib::testing::ledger_accesses;
using ipattrib::testing::numbered_frame;
using tls::FrameStream;
using tls::testing::TestPki;
using wire::WireErrorCode;

constexpr int kTimeoutMs = 10000;

// A hand-driven agent connection: the tests speak the protocol frame by frame.
class RawAgent {
 public:
  RawAgent(const tls::TlsFiles& files, std::uint16_t port, bool plaintext = false) {
    std::unique_ptr<tls::TlsContext> context;
    if (plaintext) {
      context = tls::TlsContext::make_plaintext_for_tests("raw agent");
    } else {
      status_ = tls::TlsContext::make_client(files, context);
      if (!status_) return;
    }
    tls::UniqueFd fd;
    status_ = tls::connect_tcp({"127.0.0.1", port}, kTimeoutMs, fd);
    if (!status_) return;
    std::unique_ptr<tls::TlsStream> stream;
    status_ = tls::TlsStream::connect(*context, std::move(fd), "127.0.0.1", kTimeoutMs, stream);
    if (status_) frames_ = std::make_unique<FrameStream>(std::move(stream), wire::WireLimits());
  }
  bool ok() const { return frames_ != nullptr; }

  bool send(const std::vector<std::uint8_t>& bytes) { return ok() && frames_->write(bytes, kTimeoutMs); }
  bool hello(const std::string& agent_id, std::uint64_t lowest_unacked = 0, std::uint64_t highest_unacked = 0) {
    std::vector<std::uint8_t> out;
    return wire::encode_hello({agent_id, "gw-1", "test", lowest_unacked, highest_unacked}, out) && send(out);
  }
  // The next frame, or nullopt if the connection ended instead.
  std::optional<wire::Frame> next() {
    if (!ok()) return std::nullopt;
    wire::Frame frame;
    Status error;
    if (frames_->read_frame(frame, kTimeoutMs, error) != FrameStream::ReadResult::kFrame) return std::nullopt;
    return frame;
  }
  std::optional<std::uint64_t> hello_ack() {
    auto frame = next();
    wire::HelloAck ack;
    if (!frame || frame->type != wire::FrameType::kHelloAck || !wire::decode_hello_ack(frame->body, ack)) return {};
    return ack.highest_committed_sequence;
  }
  std::optional<std::uint64_t> ack() {
    auto frame = next();
    wire::Ack ack;
    if (!frame || frame->type != wire::FrameType::kAck || !wire::decode_ack(frame->body, ack)) return {};
    return ack.sequence;
  }
  // The ERROR code received next, then checks the collector closed.
  std::optional<WireErrorCode> error_then_closed() {
    auto frame = next();
    wire::WireError error;
    if (!frame || frame->type != wire::FrameType::kError || !wire::decode_error(frame->body, error)) return {};
    if (next().has_value()) return {};  // must be closed now
    return error.code;
  }
  const Status& status() const { return status_; }

 private:
  Status status_;
  std::unique_ptr<FrameStream> frames_;
};

class IngestServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki({"agent-1", "agent-2", "intruder"});
    other_pki_ = new TestPki({"agent-1"});
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete other_pki_;
  }

  void SetUp() override {
    ASSERT_TRUE(pki_->ok() && other_pki_->ok());
    path_ = pki_->dir() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite3";
    Status s = open_sqlite_ledger_store({path_}, store_);
    ASSERT_TRUE(s) << s.message();
    config_.listen = "127.0.0.1:0";
    config_.tls_ca = pki_->server().ca_file;
    config_.tls_cert = pki_->server().cert_file;
    config_.tls_key = pki_->server().key_file;
    config_.allowed_agents = {"agent-1", "agent-2"};
  }
  void start() {
    server_ = std::make_unique<IngestServer>(config_, *store_);
    Status s = server_->start();
    ASSERT_TRUE(s) << s.message();
  }
  RawAgent agent(const std::string& name) { return RawAgent(pki_->agent(name), server_->port()); }

  static TestPki* pki_;
  static TestPki* other_pki_;
  std::string path_;
  std::unique_ptr<LedgerStore> store_;
  IngestConfig config_;
  std::unique_ptr<IngestServer> server_;
};
TestPki* IngestServerTest::pki_ = nullptr;
TestPki* IngestServerTest::other_pki_ = nullptr;

TEST_F(IngestServerTest, BatchesAreAppliedOnceAndRetransmissionsAckedAndIgnored) {
  start();
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(a.hello("agent-1"));
    EXPECT_EQ(a.hello_ack(), 0u);
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 1)));
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 2)));  // pipelined
    EXPECT_EQ(a.ack(), 1u);
    EXPECT_EQ(a.ack(), 2u);
  }
  RawAgent again = agent("agent-1");
  ASSERT_TRUE(again.hello("agent-1"));
  EXPECT_EQ(again.hello_ack(), 2u);  // the ledger remembers
  ASSERT_TRUE(again.send(numbered_frame("agent-1", 2)));  // its ACK was "lost": retransmitted
  ASSERT_TRUE(again.send(numbered_frame("agent-1", 3)));
  EXPECT_EQ(again.ack(), 2u);
  EXPECT_EQ(again.ack(), 3u);

  for (std::uint64_t seq : {1, 2, 3}) EXPECT_EQ(ledger_accesses(*store_, seq), 3u) << seq;
  std::uint64_t highest = 0;
  ASSERT_TRUE(store_->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 3u);
  EXPECT_EQ(server_->counters().batches.load(), 3u);
  EXPECT_EQ(server_->counters().duplicate_batches.load(), 1u);
  EXPECT_EQ(server_->counters().records.load(), 3u);
  EXPECT_EQ(server_->counters().accesses.load(), 9u);
}

TEST_F(IngestServerTest, AgentCertificateFromAnotherCaIsRefused) {
  start();
  tls::TlsFiles files = other_pki_->agent("agent-1");
  files.ca_file = pki_->server().ca_file;  // it trusts the collector; the collector must not trust it
  RawAgent a(files, server_->port());
  if (a.ok()) {
    a.hello("agent-1");
    EXPECT_FALSE(a.hello_ack().has_value());
  }
  EXPECT_TRUE(eventually([&] { return server_->counters().auth_failures.load() == 1; }));
  std::uint64_t highest = 1;
  ASSERT_TRUE(store_->highest_sequence("agent-1", highest));
  EXPECT_EQ(highest, 0u);
}

TEST_F(IngestServerTest, CertificateIdentityNotAllowedIsRefusedBeforeAnyFrame) {
  start();
  RawAgent a = agent("intruder");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.error_then_closed(), WireErrorCode::kNotAuthorized);
  EXPECT_EQ(server_->counters().auth_failures.load(), 1u);
}

TEST_F(IngestServerTest, HelloWithAnotherAgentsIdIsRefused) {
  start();
  RawAgent a = agent("agent-1");
  ASSERT_TRUE(a.hello("agent-2"));  // allowed, but not who the certificate says
  EXPECT_EQ(a.error_then_closed(), WireErrorCode::kNotAuthorized);
  EXPECT_EQ(server_->counters().auth_failures.load(), 1u);
}

TEST_F(IngestServerTest, BatchForAnotherAgentIsRefused) {
  start();
  RawAgent a = agent("agent-1");
  ASSERT_TRUE(a.hello("agent-1"));
  ASSERT_EQ(a.hello_ack(), 0u);
  ASSERT_TRUE(a.send(numbered_frame("agent-2", 1)));
  EXPECT_EQ(a.error_then_closed(), WireErrorCode::kNotAuthorized);
  EXPECT_EQ(ledger_accesses(*store_, 1), 0u);
}

TEST_F(IngestServerTest, MalformedFrameClosesOnlyThatConnection) {
  start();
  RawAgent good = agent("agent-1");
  RawAgent bad = agent("agent-2");
  ASSERT_TRUE(good.hello("agent-1"));
  ASSERT_EQ(good.hello_ack(), 0u);
  ASSERT_TRUE(bad.hello("agent-2"));
  ASSERT_EQ(bad.hello_ack(), 0u);
  ASSERT_TRUE(bad.send({0, 0, 0, 1, 9, 3, 0, 0, 0}));  // version 9
  EXPECT_EQ(bad.error_then_closed(), WireErrorCode::kUnsupportedVersion);

  ASSERT_TRUE(good.send(numbered_frame("agent-1", 1)));
  EXPECT_EQ(good.ack(), 1u);
  EXPECT_EQ(server_->counters().protocol_errors.load(), 1u);
}

TEST_F(IngestServerTest, OversizeLengthIsRefusedFromTheHeaderAlone) {
  start();
  RawAgent a = agent("agent-1");
  ASSERT_TRUE(a.hello("agent-1"));
  ASSERT_EQ(a.hello_ack(), 0u);
  ASSERT_TRUE(a.send({0xff, 0xff, 0xff, 0xff, 1, 3, 0, 0}));  // 4 GiB body announced, none sent
  EXPECT_EQ(a.error_then_closed(), WireErrorCode::kFrameTooLarge);
}

TEST_F(IngestServerTest, ProtocolViolationsAreRefused) {
  start();
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 1)));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kUnexpectedFrame);  // BATCH before HELLO
  }
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.hello("agent-1"));
    ASSERT_EQ(a.hello_ack(), 0u);
    std::vector<std::uint8_t> frame = numbered_frame("agent-1", 1);
    frame.back() ^= 0xff;  // inside the zstd frame
    ASSERT_TRUE(a.send(frame));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kBadBatch);
  }
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.hello("agent-1"));
    ASSERT_EQ(a.hello_ack(), 0u);
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 5)));
    EXPECT_EQ(a.ack(), 5u);
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 4)));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kSequenceNotIncreasing);
  }
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.hello("agent-1"));
    ASSERT_EQ(a.hello_ack(), 5u);
    ASSERT_TRUE(a.hello("agent-1"));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kUnexpectedFrame);  // second HELLO
  }
  {
    RawAgent a = agent("agent-1");
    std::vector<std::uint8_t> ack;
    ASSERT_TRUE(wire::encode_ack({1}, ack));
    ASSERT_TRUE(a.send(ack));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kUnexpectedFrame);  // wrong direction
  }
  EXPECT_EQ(ledger_accesses(*store_, 1), 0u);  // the corrupted batch left nothing
  EXPECT_EQ(ledger_accesses(*store_, 5), 3u);
  EXPECT_EQ(server_->counters().protocol_errors.load(), 5u);
}

TEST_F(IngestServerTest, StopTellsConnectedAgentsShuttingDown) {
  start();
  RawAgent a = agent("agent-1");
  ASSERT_TRUE(a.hello("agent-1"));
  ASSERT_EQ(a.hello_ack(), 0u);
  server_->stop();
  EXPECT_EQ(a.error_then_closed(), WireErrorCode::kShuttingDown);
  server_->stop();  // idempotent
}

TEST_F(IngestServerTest, PlaintextModeStillChecksTheAllowList) {
  config_.plaintext_for_tests = true;
  start();
  RawAgent good(tls::TlsFiles{}, server_->port(), true);
  ASSERT_TRUE(good.hello("agent-2"));
  EXPECT_EQ(good.hello_ack(), 0u);
  RawAgent bad(tls::TlsFiles{}, server_->port(), true);
  ASSERT_TRUE(bad.hello("someone"));
  EXPECT_EQ(bad.error_then_closed(), WireErrorCode::kNotAuthorized);
}

TEST_F(IngestServerTest, ConnectionsAboveTheLimitAreClosed) {
  config_.max_connections = 1;
  start();
  RawAgent first = agent("agent-1");
  ASSERT_TRUE(first.hello("agent-1"));
  ASSERT_EQ(first.hello_ack(), 0u);
  RawAgent second = agent("agent-2");
  if (second.ok()) {
    second.hello("agent-2");
    EXPECT_FALSE(second.hello_ack().has_value());
  }
  EXPECT_EQ(server_->counters().connections_rejected.load(), 1u);
}


// Remembers what it was shown, per agent, like the alert store's watermark;
// fails on_committed while `failing` is set.
class RecordingObserver : public CommittedBatchObserver {
 public:
  Status handled_sequence(const std::string& agent_id, std::uint64_t& sequence) override {
    std::lock_guard<std::mutex> lock(mutex_);
    sequence = watermark_[agent_id];
    return Status::ok();
  }
  Status on_committed(const RecordBatch& batch) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failing) return Status::error("alert store down");
    seen.push_back(batch.sequence);
    watermark_[batch.agent_id] = std::max(watermark_[batch.agent_id], batch.sequence);
    return Status::ok();
  }
  std::atomic<bool> failing{false};
  std::vector<std::uint64_t> seen;

 private:
  std::mutex mutex_;
  std::map<std::string, std::uint64_t> watermark_;
};

TEST_F(IngestServerTest, ObserverSeesEveryCommittedBatchOnceAndReportsMetrics) {
  RecordingObserver observer;
  server_ = std::make_unique<IngestServer>(config_, *store_);
  server_->set_committed_batch_observer(&observer);
  ASSERT_TRUE(server_->start());
  RawAgent a = agent("agent-1");
  ASSERT_TRUE(a.hello("agent-1"));
  EXPECT_EQ(a.hello_ack(), 0u);
  EXPECT_TRUE(eventually([&] { return server_->counters().agents_connected.load() == 1; }));
  ASSERT_TRUE(a.send(numbered_frame("agent-1", 1)));
  ASSERT_TRUE(a.send(numbered_frame("agent-1", 2)));
  EXPECT_EQ(a.ack(), 1u);
  EXPECT_EQ(a.ack(), 2u);
  EXPECT_EQ(observer.seen, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(server_->counters().store_apply_seconds.count(), 2u);
  StatsLine line;
  server_->report(line);
  EXPECT_NE(line.to_string().find("ingest.agents_connected=1"), std::string::npos) << line.to_string();
}

TEST_F(IngestServerTest, BatchCommittedButNotObservedIsNotAckedAndTheRetransmissionIsObservedOnly) {
  RecordingObserver observer;
  server_ = std::make_unique<IngestServer>(config_, *store_);
  server_->set_committed_batch_observer(&observer);
  ASSERT_TRUE(server_->start());
  observer.failing = true;
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.hello("agent-1"));
    EXPECT_EQ(a.hello_ack(), 0u);
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 1)));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kInternal);  // no ACK: the agent keeps the batch
  }
  EXPECT_EQ(ledger_accesses(*store_, 1), 3u);  // the ledger did commit it
  EXPECT_EQ(server_->counters().observer_errors.load(), 1u);
  EXPECT_TRUE(eventually([&] { return server_->counters().agents_connected.load() == 0; }));
  observer.failing = false;
  RawAgent again = agent("agent-1");
  ASSERT_TRUE(again.hello("agent-1"));
  EXPECT_EQ(again.hello_ack(), 1u);
  ASSERT_TRUE(again.send(numbered_frame("agent-1", 1)));  // resent: the ledger has it, the observer not
  ASSERT_TRUE(again.send(numbered_frame("agent-1", 2)));
  EXPECT_EQ(again.ack(), 1u);
  EXPECT_EQ(again.ack(), 2u);
  EXPECT_EQ(observer.seen, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(ledger_accesses(*store_, 1), 3u);  // not doubled
  EXPECT_EQ(server_->counters().batches.load(), 2u);
  EXPECT_EQ(server_->counters().duplicate_batches.load(), 1u);
  ASSERT_TRUE(again.send(numbered_frame("agent-1", 3)));
  EXPECT_EQ(again.ack(), 3u);
  RawAgent third = agent("agent-2");
  ASSERT_TRUE(third.hello("agent-2"));
  EXPECT_EQ(third.hello_ack(), 0u);
}

// The agent holds batch 1 unacknowledged after the collector committed it
// but crashed before evaluating it: HELLO_ACK must not let the agent drop it.
TEST_F(IngestServerTest, HelloAckKeepsCommittedButUnobservedBatchesTheAgentHolds) {
  RecordingObserver observer;
  server_ = std::make_unique<IngestServer>(config_, *store_);
  server_->set_committed_batch_observer(&observer);
  ASSERT_TRUE(server_->start());
  observer.failing = true;
  {
    RawAgent a = agent("agent-1");
    ASSERT_TRUE(a.hello("agent-1"));
    EXPECT_EQ(a.hello_ack(), 0u);
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 1)));
    ASSERT_TRUE(a.send(numbered_frame("agent-1", 2)));
    EXPECT_EQ(a.error_then_closed(), WireErrorCode::kInternal);
  }
  std::uint64_t committed = 0;
  ASSERT_TRUE(store_->highest_sequence("agent-1", committed));
  EXPECT_EQ(committed, 1u);  // batch 1 in the ledger, not observed; batch 2 never read
  observer.failing = false;
  RawAgent holding = agent("agent-1");
  ASSERT_TRUE(holding.hello("agent-1", 1, 2));
  EXPECT_EQ(holding.hello_ack(), 0u);  // resend 1 (and 2)
  ASSERT_TRUE(holding.send(numbered_frame("agent-1", 1)));
  EXPECT_EQ(holding.ack(), 1u);
  EXPECT_EQ(observer.seen, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(ledger_accesses(*store_, 1), 3u);

  RawAgent empty_spool = agent("agent-2");  // holds nothing: the ledger's value, never lower
  ASSERT_TRUE(empty_spool.hello("agent-2"));
  EXPECT_EQ(empty_spool.hello_ack(), 0u);
}

}  // namespace
}  // namespace ipattrib::collector
