// AlertDelivery over a real SQLite store, a real HTTP receiver and a real
// file: a webhook that fails for a while still gets every alert once, the
// counters say what happened, a restart (store reopened) resumes pending
// deliveries, and stop() does not wait for a receiver that never answers.
#include "collector/alerts/alert_delivery.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "collector/alerts/alert_json.h"
#include "collector/alerts/sinks/json_lines_sink.h"
#include "collector/alerts/sinks/webhook_sink.h"
#include "collector/alerts/sqlite/sqlite_alert_store.h"
#include "tests/unit/collector/alerts/webhook_receiver.h"

namespace ipattrib::collector {
namespace {

using testing::WebhookReceiver;

class RecordedStats : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

AlertHit hit(const std::string& account) {
  AlertHit h;
  h.measure_id = "cu";
  h.measure_title = "Cuba";
  h.severity = Severity::kCritical;
  h.reason = "country CU";
  h.account = account;
  h.ip = *IpAddress::parse("192.0.2.7");
  h.geo.country = "CU";
  h.gateway = "gw";
  h.first_access_ms = h.last_access_ms = 1'760'000'000'000;
  h.count = 1;
  return h;
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AlertDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "alert-delivery-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/secret") << "k3y";
    options_.retry_base_ms = 5;
    options_.retry_max_ms = 40;
    options_.poll_interval_ms = 20;
    open_store();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  void open_store() {
    store_.reset();
    SqliteAlertStoreOptions o;
    o.path = dir_ + "/alerts.sqlite3";
    Status s = open_sqlite_alert_store(o, store_);
    ASSERT_TRUE(s) << s.message();
  }
  std::vector<std::int64_t> raise(std::uint64_t sequence, const std::vector<std::string>& accounts,
                                  const std::vector<std::string>& sinks) {
    std::vector<AlertHit> hits;
    for (const auto& a : accounts) hits.push_back(hit(a));
    RecordHitsResult r;
    Status s = store_->record_hits("agent", sequence, hits, wall_ms(), 3600'000, sinks, r);
    EXPECT_TRUE(s) << s.message();
    return r.created_ids;
  }
  std::unique_ptr<AlertSink> webhook(const WebhookReceiver& receiver, std::uint32_t timeout_ms = 2000) {
    WebhookSinkConfig c;
    c.name = "hook";
    c.url = receiver.url();
    c.secret_file = dir_ + "/secret";
    c.timeout_ms = timeout_ms;
    std::unique_ptr<AlertSink> sink;
    EXPECT_TRUE(open_webhook_sink(c, sink));
    return sink;
  }
  std::unique_ptr<AlertSink> file() {
    std::unique_ptr<AlertSink> sink;
    EXPECT_TRUE(open_json_lines_sink({"file", dir_ + "/alerts.jsonl"}, sink));
    return sink;
  }
  std::uint64_t depth(const std::string& sink) {
    std::uint64_t n = 0;
    EXPECT_TRUE(store_->outbox_depth(sink, n));
    return n;
  }
  static std::multiset<std::int64_t> ids_of(const std::vector<testing::ReceivedRequest>& requests) {
    std::multiset<std::int64_t> ids;
    for (const auto& r : requests) ids.insert(nlohmann::json::parse(r.body)["id"].get<std::int64_t>());
    return ids;
  }

  std::string dir_;
  AlertDeliveryOptions options_;
  std::unique_ptr<AlertStore> store_;
};

TEST_F(AlertDeliveryTest, AWebhookThatFailsForAWhileStillGetsEveryAlertOnce) {
  WebhookReceiver receiver;
  receiver.fail_first(4);
  std::vector<std::int64_t> ids = raise(1, {"a", "b", "c"}, {"hook", "file"});
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(webhook(receiver));
  sinks.push_back(file());
  AlertDelivery delivery(*store_, std::move(sinks), options_);
  delivery.start();
  const std::vector<std::int64_t> more = raise(2, {"d", "e"}, {"hook", "file"});
  ids.insert(ids.end(), more.begin(), more.end());
  delivery.wake();

  RecordedStats stats;
  ASSERT_TRUE(WebhookReceiver::eventually([&] {
    delivery.report(stats);
    return receiver.accepted().size() >= 5 && stats.values["alerts.outbox_pending"] == 0 &&
           stats.values["alerts.delivered"] == 10;
  })) << "accepted "
      << receiver.accepted().size();
  delivery.stop();

  EXPECT_EQ(ids_of(receiver.accepted()), std::multiset<std::int64_t>(ids.begin(), ids.end()))
      << "every alert, each exactly once";
  EXPECT_EQ(receiver.refused(), 4);
  for (const auto& r : receiver.accepted()) {
    EXPECT_EQ(r.signature, "sha256=" + hmac_sha256_hex("k3y", r.body));
  }
  EXPECT_EQ(depth("hook"), 0u);
  EXPECT_EQ(depth("file"), 0u);

  std::ifstream in(dir_ + "/alerts.jsonl");
  std::multiset<std::int64_t> in_file;
  for (std::string line; std::getline(in, line);) in_file.insert(nlohmann::json::parse(line)["id"].get<std::int64_t>());
  EXPECT_EQ(in_file, std::multiset<std::int64_t>(ids.begin(), ids.end()));

  delivery.report(stats);
  EXPECT_EQ(stats.values["alerts.delivered"], 10u);
  EXPECT_EQ(stats.values["alerts.delivery_failures"], 4u);
  EXPECT_EQ(stats.values["alerts.outbox_pending"], 0u);
  EXPECT_EQ(stats.values["alerts.sink.hook.delivered"], 5u);
  EXPECT_EQ(stats.values["alerts.sink.hook.delivery_failures"], 4u);
  EXPECT_EQ(stats.values["alerts.sink.file.delivered"], 5u);
  EXPECT_EQ(stats.values["alerts.sink.file.delivery_failures"], 0u);
  EXPECT_EQ(stats.values.count("alerts.sink.hook.outbox_pending"), 1u);
}

TEST_F(AlertDeliveryTest, FailuresAreCountedAndKeptWhileTheReceiverIsDown) {
  WebhookReceiver receiver;
  receiver.fail_first(1'000'000);
  const std::vector<std::int64_t> ids = raise(1, {"a", "b"}, {"hook"});
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(webhook(receiver));
  AlertDelivery delivery(*store_, std::move(sinks), options_);
  delivery.start();
  RecordedStats stats;
  ASSERT_TRUE(WebhookReceiver::eventually([&] {
    delivery.report(stats);
    return stats.values["alerts.delivery_failures"] >= 3 && stats.values["alerts.outbox_pending"] == 2;
  }));
  delivery.stop();
  delivery.report(stats);
  EXPECT_EQ(depth("hook"), 2u) << "nothing is dropped however often it fails";
  std::vector<OutboxEntry> entries;
  ASSERT_TRUE(store_->claim_deliveries("hook", wall_ms() + 3600'000, 1000, 10, entries));
  ASSERT_EQ(entries.size(), 2u);
  std::uint32_t attempts = 0;
  for (const OutboxEntry& e : entries) {
    attempts += e.attempts;
    // An entry behind a failing one may not have had its turn yet.
    if (e.attempts > 0) {
      EXPECT_NE(e.last_error.find("503"), std::string::npos) << e.last_error;
    }
  }
  EXPECT_GT(entries[0].attempts, 0u) << "the oldest entry is tried first";
  EXPECT_EQ(attempts, stats.values["alerts.delivery_failures"]);
  EXPECT_EQ(stats.values["alerts.delivered"], 0u);
  EXPECT_TRUE(receiver.accepted().empty());
}

TEST_F(AlertDeliveryTest, ARestartedCollectorResumesPendingDeliveries) {
  std::vector<std::int64_t> ids;
  {
    WebhookReceiver down;
    down.fail_first(1'000'000);
    ids = raise(1, {"a", "b", "c"}, {"hook"});
    std::vector<std::unique_ptr<AlertSink>> sinks;
    sinks.push_back(webhook(down));
    AlertDelivery delivery(*store_, std::move(sinks), options_);
    delivery.start();
    ASSERT_TRUE(WebhookReceiver::eventually([&] { return down.refused() >= 2; }));
    delivery.stop();
  }
  open_store();  // the new process opens the same file
  EXPECT_EQ(depth("hook"), 3u);

  WebhookReceiver up;
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(webhook(up));
  AlertDelivery delivery(*store_, std::move(sinks), options_);
  delivery.start();
  ASSERT_TRUE(WebhookReceiver::eventually([&] { return up.accepted().size() >= 3 && depth("hook") == 0; }));
  delivery.stop();
  EXPECT_EQ(ids_of(up.accepted()), std::multiset<std::int64_t>(ids.begin(), ids.end()));
}

TEST_F(AlertDeliveryTest, StopDoesNotWaitForAReceiverThatNeverAnswers) {
  WebhookReceiver hanging;
  hanging.hold_requests();
  raise(1, {"a"}, {"hook"});
  std::vector<std::unique_ptr<AlertSink>> sinks;
  sinks.push_back(webhook(hanging, 120'000));
  AlertDelivery delivery(*store_, std::move(sinks), options_);
  delivery.start();
  ASSERT_TRUE(WebhookReceiver::eventually([&] { return hanging.arrived() >= 1; }));
  delivery.stop();  // would take 120 s without interrupting the request
  hanging.release();
  EXPECT_EQ(depth("hook"), 1u) << "the interrupted delivery stays owed";
  std::vector<OutboxEntry> entries;
  ASSERT_TRUE(store_->claim_deliveries("hook", wall_ms(), 1000, 10, entries));
  ASSERT_EQ(entries.size(), 1u) << "... and is given back, not left leased until the lease expires";
  EXPECT_EQ(entries[0].attempts, 0u);
  RecordedStats stats;
  delivery.report(stats);
  EXPECT_EQ(stats.values["alerts.delivery_failures"], 0u) << "being stopped is not a failure of the sink";
}

// Two collectors sharing one store (here two stores on one SQLite file, as
// two processes would be) drain one outbox into one receiver: the leases
// keep them from sending any alert twice.
TEST_F(AlertDeliveryTest, TwoCollectorsSharingAnOutboxSendEachAlertOnce) {
  SqliteAlertStoreOptions o;
  o.path = dir_ + "/alerts.sqlite3";
  std::unique_ptr<AlertStore> other;
  ASSERT_TRUE(open_sqlite_alert_store(o, other));
  WebhookReceiver receiver;
  std::vector<std::int64_t> ids;
  for (std::uint64_t seq = 1; seq <= 20; ++seq) {
    std::vector<std::string> accounts;
    for (int i = 0; i < 5; ++i) accounts.push_back("acct" + std::to_string(seq) + "-" + std::to_string(i));
    const std::vector<std::int64_t> raised = raise(seq, accounts, {"hook"});
    ids.insert(ids.end(), raised.begin(), raised.end());
  }
  options_.batch_limit = 3;  // many small claims, so the two interleave
  std::vector<std::unique_ptr<AlertSink>> sinks_a, sinks_b;
  sinks_a.push_back(webhook(receiver));
  sinks_b.push_back(webhook(receiver));
  AlertDelivery a(*store_, std::move(sinks_a), options_);
  AlertDelivery b(*other, std::move(sinks_b), options_);
  a.start();
  b.start();
  ASSERT_TRUE(
      WebhookReceiver::eventually([&] { return receiver.accepted().size() >= ids.size() && depth("hook") == 0; }));
  a.stop();
  b.stop();
  EXPECT_EQ(ids_of(receiver.accepted()), std::multiset<std::int64_t>(ids.begin(), ids.end()));
  RecordedStats stats_a, stats_b;
  a.report(stats_a);
  b.report(stats_b);
  EXPECT_EQ(stats_a.values["alerts.delivered"] + stats_b.values["alerts.delivered"], ids.size());
}

}  // namespace
}  // namespace ipattrib::collector
