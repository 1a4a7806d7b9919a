// The special-measures step of ingest on real stores: a SQLite ledger and a
// SQLite alert store in a temp dir, a policy file on disk.
#include "collector/alert_engine/alert_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collector/alert_engine/policy_file_watch.h"
#include "collector/alerts/sqlite/sqlite_alert_store.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "ipattrib/stats_line.h"

namespace ipattrib::collector {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

constexpr const char* kIranPolicy = R"([[measure]]
id = "iran"
title = "Iran"
basis = "31 CFR 560"
effective = 1995-05-06
severity = "critical"
countries = ["IR"]
)";

constexpr const char* kIranAndRussiaPolicy = R"([[measure]]
id = "iran"
title = "Iran"
basis = "31 CFR 560"
effective = 1995-05-06
severity = "critical"
countries = ["IR"]

[[measure]]
id = "russia"
title = "Russia"
basis = "15 CFR 791.4"
effective = 2021-03-22
severity = "high"
countries = ["RU"]
)";

AttributionRecord record(const std::string& account, const std::string& ip, const std::string& country,
                         std::int64_t t) {
  AttributionRecord r;
  r.account = account;
  r.client_ip = *IpAddress::parse(ip);
  r.gateway = "gw-1";
  r.geo.country = country;
  r.access_times_ms = {t, t + 100, t + 200};
  return r;
}

RecordBatch batch(std::uint64_t sequence, std::vector<AttributionRecord> records) {
  RecordBatch b;
  b.agent_id = "agent-1";
  b.sequence = sequence;
  b.records = std::move(records);
  return b;
}

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alert-engine-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(open_sqlite_ledger_store({(dir_ / "ledger.sqlite3").string()}, ledger_));
    ASSERT_TRUE(open_sqlite_alert_store({(dir_ / "alerts.sqlite3").string()}, alerts_));
    AlertEngineSettings settings;
    settings.sinks = {"file"};
    settings.alerts_queued = [this] { ++wakeups_; };
    engine_ = std::make_unique<AlertEngine>(*ledger_, *alerts_, settings);
    policy_path_ = (dir_ / "policy.toml").string();
  }
  void TearDown() override {
    engine_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void write_policy(const std::string& text) { std::ofstream(policy_path_, std::ios::trunc) << text; }
  // Applies to the ledger, then runs the engine, as ingest does.
  void ingest(const RecordBatch& b) {
    ApplyResult applied;
    ASSERT_TRUE(ledger_->apply_batch(b, applied));
    Status s = engine_->on_committed(b);
    ASSERT_TRUE(s) << s.message();
  }
  std::vector<Alert> all_alerts() {
    std::vector<Alert> out;
    bool more = false;
    AlertQuery query;
    EXPECT_TRUE(alerts_->list_alerts(query, out, more));
    return out;
  }
  bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 2000 && !condition(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return condition();
  }

  fs::path dir_;
  std::string policy_path_;
  std::unique_ptr<LedgerStore> ledger_;
  std::unique_ptr<AlertStore> alerts_;
  std::unique_ptr<AlertEngine> engine_;
  int wakeups_ = 0;
};

TEST_F(AlertEngineTest, HitsBecomeOneAlertPerMeasureAccountIpAndABatchIsEvaluatedOnce) {
  write_policy(kIranPolicy);
  PolicyFileWatch watch(policy_path_, {}, *engine_, true);
  ConfigErrors errors(policy_path_);
  ASSERT_TRUE(watch.load(errors)) << errors.to_string();

  const RecordBatch first = batch(1, {record("acct-a", "192.0.2.1", "IR", kT0), record("acct-b", "192.0.2.2", "DE", kT0)});
  ingest(first);
  std::vector<Alert> alerts = all_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].first_hit.measure_id, "iran");
  EXPECT_EQ(alerts[0].first_hit.account, "acct-a");
  EXPECT_EQ(alerts[0].count, 3u);
  EXPECT_EQ(wakeups_, 1);

  ASSERT_TRUE(engine_->on_committed(first));  // a retransmission after a crash: nothing twice
  EXPECT_EQ(all_alerts()[0].count, 3u);
  std::uint64_t handled = 0;
  ASSERT_TRUE(engine_->handled_sequence("agent-1", handled));
  EXPECT_EQ(handled, 1u);

  ingest(batch(2, {record("acct-a", "192.0.2.1", "IR", kT0 + 60'000)}));  // same session: folded in
  alerts = all_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 6u);
  EXPECT_EQ(alerts[0].suppressed_hits, 1u);
}

TEST_F(AlertEngineTest, WithoutAPolicyNothingIsRaisedOrWritten) {
  ingest(batch(1, {record("acct-a", "192.0.2.1", "IR", kT0)}));
  EXPECT_TRUE(all_alerts().empty());
  std::uint64_t handled = 0;
  ASSERT_TRUE(engine_->handled_sequence("agent-1", handled));
  EXPECT_EQ(handled, 0u);  // no hits, no alert-store commit
  ScanSummary summary;
  EXPECT_FALSE(engine_->scan({}, summary));  // nothing to scan against
}

TEST_F(AlertEngineTest, ChangedPolicyFileIsReloadedAndScansThePastForTheNewMeasureOnly) {
  write_policy(kIranPolicy);
  PolicyFileWatch watch(policy_path_, {}, *engine_, /*scan_on_change=*/true);
  ConfigErrors errors(policy_path_);
  ASSERT_TRUE(watch.load(errors)) << errors.to_string();
  ingest(batch(1, {record("acct-a", "192.0.2.1", "IR", kT0), record("acct-r", "2001:db8::7", "RU", kT0)}));
  ASSERT_EQ(all_alerts().size(), 1u);

  write_policy(kIranAndRussiaPolicy);
  watch.poll();  // sees the new size/mtime
  ASSERT_EQ(engine_->policy()->policy().measures.size(), 2u);
  ASSERT_TRUE(eventually([&] { return !engine_->scan_running() && all_alerts().size() == 2; }));
  std::vector<Alert> alerts = all_alerts();
  ASSERT_EQ(alerts.size(), 2u);  // Iran was not alerted twice by the scan
  EXPECT_EQ(alerts[0].first_hit.measure_id, "russia");  // newest first
  EXPECT_EQ(alerts[0].first_hit.account, "acct-r");
  EXPECT_EQ(alerts[0].first_hit.first_access_ms, kT0);
  EXPECT_EQ(alerts[0].count, 3u);
}

TEST_F(AlertEngineTest, AnInvalidPolicyFileKeepsThePolicyInForce) {
  write_policy(kIranPolicy);
  PolicyFileWatch watch(policy_path_, {}, *engine_, true);
  ConfigErrors errors(policy_path_);
  ASSERT_TRUE(watch.load(errors)) << errors.to_string();
  write_policy(std::string(kIranPolicy) + "countries_typo = [\"RU\"]\n");
  watch.reload("test");
  ASSERT_NE(engine_->policy(), nullptr);
  EXPECT_EQ(engine_->policy()->policy().measures.size(), 1u);
  StatsLine stats;
  watch.report(stats);
  EXPECT_NE(stats.to_string().find("policy.reloads=0 policy.reload_failures=1 policy.measures_active=1"),
            std::string::npos) << stats.to_string();
  ingest(batch(1, {record("acct-a", "192.0.2.1", "IR", kT0)}));
  EXPECT_EQ(all_alerts().size(), 1u);

  ConfigErrors start_errors(policy_path_);
  AlertEngine fresh(*ledger_, *alerts_, {});
  PolicyFileWatch at_start(policy_path_, {}, fresh, true);
  EXPECT_FALSE(at_start.load(start_errors));  // at start an invalid policy is refused
  EXPECT_NE(start_errors.to_string().find("policy.toml:"), std::string::npos) << start_errors.to_string();
}

}  // namespace
}  // namespace ipattrib::collector
