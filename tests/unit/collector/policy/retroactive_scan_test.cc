// The retroactive scan over a real SQLite ledger filled through apply_batch.
#include "collector/policy/retroactive_scan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "ipattrib/geo_info.h"

namespace ipattrib::collector {
namespace {

constexpr std::int64_t kT = 1704067200000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kDay = 86'400'000;

AttributionRecord record(std::string account, const char* ip, std::string country, std::vector<std::int64_t> times,
                         std::string gateway = "gw1") {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = *IpAddress::parse(ip);
  r.gateway = std::move(gateway);
  r.geo.country = std::move(country);
  r.access_times_ms = std::move(times);
  return r;
}

SpecialMeasure measure(std::string id, Severity severity, std::int64_t effective_ms) {
  SpecialMeasure m;
  m.id = std::move(id);
  m.title = "title " + m.id;
  m.basis = "basis";
  m.severity = severity;
  m.effective_ms = effective_ms;
  return m;
}

class RetroactiveScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "retroactive-scan-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    SqliteLedgerOptions options;
    options.path = dir_ + "/ledger.sqlite3";
    Status s = open_sqlite_ledger_store(options, store_);
    ASSERT_TRUE(s) << s.message();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  void apply(std::vector<AttributionRecord> records) {
    RecordBatch batch;
    batch.agent_id = "agent-1";
    batch.sequence = ++sequence_;
    batch.records = std::move(records);
    ApplyResult result;
    Status s = store_->apply_batch(batch, result);
    ASSERT_TRUE(s) << s.message();
  }
  std::vector<AlertHit> scan(const PolicyEvaluator& evaluator, RetroactiveScanRequest request = {}) {
    std::vector<AlertHit> hits;
    Status s = RetroactiveScan(*store_, evaluator).run(request, hits, result_);
    EXPECT_TRUE(s) << s.message();
    return hits;
  }
  static PolicyEvaluator evaluator(std::vector<SpecialMeasure> measures) {
    SpecialMeasuresPolicy policy;
    policy.measures = std::move(measures);
    return PolicyEvaluator(std::move(policy));
  }

  std::string dir_;
  std::unique_ptr<LedgerStore> store_;
  std::uint64_t sequence_ = 0;
  RetroactiveScanResult result_;
};

// Ingest first, then add a measure: the accesses already in the ledger that
// the new measure covers come back as hits, dated inside its period.
TEST_F(RetroactiveScanTest, NewMeasureFindsPastAccessesInsideItsPeriod) {
  apply({record("acct-a", "192.0.2.10", "IR", {kT - kDay, kT + 1})});
  apply({record("acct-a", "192.0.2.10", "IR", {kT + 5, kT + 2 * kDay}, "gw2"),
         record("acct-b", "192.0.2.20", "US", {kT + 1}),
         record("acct-c", "2001:db8:40::7", "DE", {kT + 3})});
  SpecialMeasure iran = measure("iran", Severity::kCritical, kT);
  iran.countries = {"IR"};
  iran.expires_ms = kT + kDay;
  SpecialMeasure nets = measure("nets", Severity::kHigh, kT);
  nets.networks = {*Cidr::parse("2001:db8:40::/48")};
  PolicyEvaluator e = evaluator({iran, nets});

  std::vector<AlertHit> hits = scan(e);
  EXPECT_EQ(result_.summaries_scanned, 3u);
  EXPECT_EQ(result_.hits, 2u);
  ASSERT_EQ(hits.size(), 2u);
  const AlertHit& a = hits[0];  // (account, ip, class) order
  EXPECT_EQ(a.measure_id, "iran");
  EXPECT_EQ(a.measure_title, "title iran");
  EXPECT_EQ(a.severity, Severity::kCritical);
  EXPECT_EQ(a.reason, "country IR");
  EXPECT_EQ(a.account, "acct-a");
  EXPECT_EQ(a.ip, *IpAddress::parse("192.0.2.10"));
  EXPECT_EQ(a.access_class, RecordClass::kAccess);
  EXPECT_EQ(a.geo.country, "IR");
  EXPECT_EQ(a.first_access_ms, kT + 1);  // kT - kDay is before the measure, kT + 2 days after it
  EXPECT_EQ(a.last_access_ms, kT + 5);
  EXPECT_EQ(a.count, 2u);
  EXPECT_EQ(a.gateway, "gw1");  // the first access's

  const AlertHit& c = hits[1];
  EXPECT_EQ(c.measure_id, "nets");
  EXPECT_EQ(c.account, "acct-c");
  EXPECT_EQ(c.reason, "network 2001:db8:40::/48");
  EXPECT_EQ(c.count, 1u);
  EXPECT_EQ(c.first_access_ms, kT + 3);
}

TEST_F(RetroactiveScanTest, GeoAtFirstOrLastSightMatches) {
  // Moved from US into RU, and from RU out to US.
  apply({record("moved-in", "192.0.2.1", "US", {kT + 1}), record("moved-out", "192.0.2.2", "RU", {kT + 1})});
  apply({record("moved-in", "192.0.2.1", "RU", {kT + 9}), record("moved-out", "192.0.2.2", "US", {kT + 9})});
  SpecialMeasure russia = measure("russia", Severity::kHigh, kT);
  russia.countries = {"RU"};
  std::vector<AlertHit> hits = scan(evaluator({russia}));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].account, "moved-in");
  EXPECT_EQ(hits[0].geo.country, "RU");
  EXPECT_EQ(hits[0].count, 2u);  // the ledger cannot tell which accesses were in RU
  EXPECT_EQ(hits[1].account, "moved-out");
  EXPECT_EQ(hits[1].geo.country, "RU");
}

TEST_F(RetroactiveScanTest, SummaryOutsideThePeriodIsSkipped) {
  apply({record("before", "192.0.2.1", "KP", {kT - 10, kT - 5}), record("after", "192.0.2.2", "KP", {kT + 50})});
  SpecialMeasure m = measure("kp", Severity::kCritical, kT);
  m.countries = {"KP"};
  m.expires_ms = kT + 50;  // exclusive
  EXPECT_TRUE(scan(evaluator({m})).empty());
  EXPECT_EQ(result_.summaries_scanned, 2u);
  EXPECT_EQ(result_.matched_without_detail, 0u);
}

TEST_F(RetroactiveScanTest, OnlyTheRequestedMeasures) {
  apply({record("acct", "192.0.2.1", "CU", {kT + 1})});
  SpecialMeasure cuba = measure("cuba", Severity::kCritical, kT);
  cuba.countries = {"CU"};
  SpecialMeasure account = measure("acct", Severity::kHigh, kT);
  account.accounts = {"acct"};
  PolicyEvaluator e = evaluator({cuba, account});
  EXPECT_EQ(scan(e).size(), 2u);
  RetroactiveScanRequest request;
  request.measure_ids = {"acct"};
  std::vector<AlertHit> hits = scan(e, request);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].measure_id, "acct");
  EXPECT_EQ(hits[0].reason, "account acct");

  request.measure_ids = {"no-such"};
  std::vector<AlertHit> none;
  Status s = RetroactiveScan(*store_, e).run(request, none, result_);
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message(), "no measure 'no-such' in the policy");
}

TEST_F(RetroactiveScanTest, HitsArriveInBatchesAndASinkErrorStopsTheScan) {
  std::vector<AttributionRecord> records;
  for (int i = 0; i < 7; ++i) {
    records.push_back(record("acct-" + std::to_string(i), "192.0.2.1", "IR", {kT + i}));
  }
  apply(records);
  SpecialMeasure m = measure("iran", Severity::kCritical, kT);
  m.countries = {"IR"};
  PolicyEvaluator e = evaluator({m});
  RetroactiveScanRequest request;
  request.batch_size = 3;
  std::vector<std::size_t> sizes;
  Status s = RetroactiveScan(*store_, e).run(
      request,
      [&](std::vector<AlertHit>& batch) {
        sizes.push_back(batch.size());
        return Status::ok();
      },
      result_);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(result_.hits, 7u);

  int calls = 0;
  s = RetroactiveScan(*store_, e).run(
      request,
      [&](std::vector<AlertHit>&) {
        ++calls;
        return Status::error("alert store down");
      },
      result_);
  EXPECT_FALSE(s);
  EXPECT_EQ(s.message(), "alert store down");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result_.summaries_scanned, 3u);
}

TEST_F(RetroactiveScanTest, DetailRemovedByRetentionIsCountedNotGuessed) {
  apply({record("acct", "192.0.2.1", "IR", {kT + 1, kT + 10 * kDay})});
  RetentionResult retention;
  ASSERT_TRUE(store_->apply_retention(kT + 5 * kDay, retention));
  SpecialMeasure m = measure("old", Severity::kCritical, kT);
  m.countries = {"IR"};
  m.expires_ms = kT + kDay;
  EXPECT_TRUE(scan(evaluator({m})).empty());
  EXPECT_EQ(result_.matched_without_detail, 1u);
}

}  // namespace
}  // namespace ipattrib::collector
