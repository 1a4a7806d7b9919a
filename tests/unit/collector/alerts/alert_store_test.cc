// Behaviour every AlertStore must have: exactly-once recording per agent
// batch, deduplication within the window, the outbox per sink, analyst
// state that never goes back, filters and paging, durability across a
// reopen. Run against the SQLite and the PostgreSQL store.
#include "collector/alerts/alert_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/alerts/postgresql/postgres_alert_store.h"
#include "collector/alerts/sqlite/sqlite_alert_store.h"
#include "tests/support/postgres_server.h"

namespace ipattrib::collector {
namespace {

// Opens the store kept under `dir` (fresh per test); opening the same dir
// again reopens the same store. `unavailable` (if set) says why the store
// cannot run here, and the test skips.
struct AlertStoreFactory {
  std::string name;
  std::function<Status(const std::string& dir, std::unique_ptr<AlertStore>&)> open;
  std::function<std::string()> unavailable;
};

void PrintTo(const AlertStoreFactory& factory, std::ostream* os) { *os << factory.name; }

constexpr std::int64_t kHour = 3600 * 1000;
constexpr std::int64_t kT0 = 1'760'000'000'000;  // 2025-10-09
constexpr std::int64_t kLease = 60'000;

AlertHit hit(std::string measure, std::string account, const char* ip, std::int64_t first_ms = kT0,
             std::uint64_t count = 1, Severity severity = Severity::kCritical) {
  AlertHit h;
  h.measure_id = std::move(measure);
  h.measure_title = "title of " + h.measure_id;
  h.severity = severity;
  h.reason = "country IR";
  h.account = std::move(account);
  h.ip = *IpAddress::parse(ip);
  h.access_class = RecordClass::kAccess;
  h.geo.country = "IR";
  h.geo.subdivision = "IR-23";
  h.geo.asn = 64500;
  h.geo.as_org = "AS Example";
  h.geo.anonymizer_flags = 0x20;
  h.geo.db_build_epoch = 1'700'000'000;
  h.gateway = "gw1";
  h.first_access_ms = first_ms;
  h.last_access_ms = first_ms + 10;
  h.count = count;
  return h;
}

class AlertStoreTest : public ::testing::TestWithParam<AlertStoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) {
      if (const std::string why = GetParam().unavailable(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "alert-store-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  void reopen() {
    store_.reset();
    Status s = GetParam().open(dir_, store_);
    ASSERT_TRUE(s) << s.message();
  }
  RecordHitsResult record(const std::string& agent, std::uint64_t seq, const std::vector<AlertHit>& hits,
                          std::int64_t now = kT0, std::int64_t window = kHour,
                          const std::vector<std::string>& sinks = {"hook"}) {
    RecordHitsResult r;
    Status s = store_->record_hits(agent, seq, hits, now, window, sinks, r);
    EXPECT_TRUE(s) << s.message();
    return r;
  }
  Alert get(std::int64_t id) {
    Alert a;
    bool found = false;
    Status s = store_->get_alert(id, a, found);
    EXPECT_TRUE(s) << s.message();
    EXPECT_TRUE(found) << id;
    return a;
  }
  std::vector<std::int64_t> list_ids(const AlertQuery& q, bool* more = nullptr) {
    std::vector<Alert> alerts;
    bool m = false;
    Status s = store_->list_alerts(q, alerts, m);
    EXPECT_TRUE(s) << s.message();
    if (more != nullptr) *more = m;
    std::vector<std::int64_t> ids;
    for (const Alert& a : alerts) ids.push_back(a.id);
    return ids;
  }
  std::vector<OutboxEntry> claim(const std::string& sink, std::int64_t now, std::uint32_t limit = 100,
                                 std::int64_t lease = kLease) {
    std::vector<OutboxEntry> entries;
    Status s = store_->claim_deliveries(sink, now, lease, limit, entries);
    EXPECT_TRUE(s) << s.message();
    return entries;
  }
  void release(const std::vector<OutboxEntry>& entries) {
    for (const OutboxEntry& e : entries) ASSERT_TRUE(store_->release_delivery(e.id));
  }
  std::uint64_t depth(const std::string& sink) {
    std::uint64_t n = 0;
    Status s = store_->outbox_depth(sink, n);
    EXPECT_TRUE(s) << s.message();
    return n;
  }

  std::string dir_;
  std::unique_ptr<AlertStore> store_;
};

TEST_P(AlertStoreTest, NewHitCreatesAnOpenAlertHoldingTheHitWhole) {
  const AlertHit h = hit("m1", "alice", "2001:db8::7", kT0, 3);
  const RecordHitsResult r = record("agent-a", 1, {h}, kT0 + 500);
  EXPECT_FALSE(r.already_evaluated);
  EXPECT_EQ(r.alerts_created, 1u);
  EXPECT_EQ(r.hits_suppressed, 0u);
  ASSERT_EQ(r.created_ids.size(), 1u);
  EXPECT_GT(r.created_ids[0], 0);

  Alert expected;
  expected.id = r.created_ids[0];
  expected.first_hit = h;
  expected.last_access_ms = h.last_access_ms;
  expected.count = 3;
  expected.created_ms = kT0 + 500;
  expected.updated_ms = kT0 + 500;
  EXPECT_EQ(get(r.created_ids[0]), expected);
}

TEST_P(AlertStoreTest, HitsInsideTheWindowFoldIntoOneAlertWithAGrowingCount) {
  const std::int64_t id = record("a", 1, {hit("m1", "alice", "192.0.2.1", kT0, 2)}).created_ids.at(0);
  AlertHit later = hit("m1", "alice", "192.0.2.1", kT0 + 1000, 5);
  later.last_access_ms = kT0 + 9000;
  later.gateway = "gw2";
  const RecordHitsResult r = record("a", 2, {later, later}, kT0 + kHour - 1);
  EXPECT_EQ(r.alerts_created, 0u);
  EXPECT_EQ(r.hits_suppressed, 2u);
  EXPECT_TRUE(r.created_ids.empty());

  const Alert a = get(id);
  EXPECT_EQ(a.count, 12u);
  EXPECT_EQ(a.suppressed_hits, 2u);
  EXPECT_EQ(a.last_access_ms, kT0 + 9000);
  EXPECT_EQ(a.updated_ms, kT0 + kHour - 1);
  EXPECT_EQ(a.created_ms, kT0);
  // The first hit is kept as it was.
  EXPECT_EQ(a.first_hit, hit("m1", "alice", "192.0.2.1", kT0, 2));
  EXPECT_EQ(depth("hook"), 1u) << "a folded hit is not delivered again";
}

TEST_P(AlertStoreTest, AnEarlierHitFoldedInMovesFirstAccessEarlier) {
  const std::int64_t id = record("a", 1, {hit("m1", "alice", "192.0.2.1", kT0 + 500, 1)}).created_ids.at(0);
  AlertHit earlier = hit("m1", "alice", "192.0.2.1", kT0 + 100, 1);  // e.g. the other access class of one batch
  earlier.last_access_ms = kT0 + 100;
  record("a", 2, {earlier});
  const Alert a = get(id);
  EXPECT_EQ(a.first_hit.first_access_ms, kT0 + 100);
  EXPECT_EQ(a.count, 2u);
  EXPECT_EQ(a.first_hit.gateway, hit("m1", "alice", "192.0.2.1", kT0 + 500, 1).gateway);
}

TEST_P(AlertStoreTest, HitAtOrAfterTheWindowEndRaisesANewAlert) {
  const std::int64_t first = record("a", 1, {hit("m1", "alice", "192.0.2.1")}).created_ids.at(0);
  const RecordHitsResult r = record("a", 2, {hit("m1", "alice", "192.0.2.1")}, kT0 + kHour);
  ASSERT_EQ(r.alerts_created, 1u);
  EXPECT_GT(r.created_ids.at(0), first);
  // The next hit folds into the newest alert, not the expired one.
  record("a", 3, {hit("m1", "alice", "192.0.2.1")}, kT0 + kHour + 5);
  EXPECT_EQ(get(first).suppressed_hits, 0u);
  EXPECT_EQ(get(r.created_ids[0]).suppressed_hits, 1u);
  EXPECT_EQ(depth("hook"), 2u);
}

TEST_P(AlertStoreTest, DedupKeyIsMeasureAccountAndIp) {
  const RecordHitsResult r = record(
      "a", 1,
      {hit("m1", "alice", "192.0.2.1"), hit("m2", "alice", "192.0.2.1"), hit("m1", "bob", "192.0.2.1"),
       hit("m1", "alice", "192.0.2.2"), hit("m1", "alice", "::ffff:192.0.2.1"), hit("m1", "alice", "192.0.2.1")});
  EXPECT_EQ(r.alerts_created, 5u) << "v4 and v4-mapped v6 are different addresses";
  EXPECT_EQ(r.hits_suppressed, 1u);
}

TEST_P(AlertStoreTest, WindowZeroNeverDeduplicates) {
  const RecordHitsResult r = record("a", 1, {hit("m1", "alice", "192.0.2.1"), hit("m1", "alice", "192.0.2.1")}, kT0, 0);
  EXPECT_EQ(r.alerts_created, 2u);
}

TEST_P(AlertStoreTest, EachAgentBatchIsRecordedExactlyOnce) {
  record("a", 5, {hit("m1", "alice", "192.0.2.1", kT0, 1)});
  RecordHitsResult again = record("a", 5, {hit("m1", "alice", "192.0.2.1", kT0, 1)}, kT0 + 1);
  EXPECT_TRUE(again.already_evaluated);
  EXPECT_EQ(again.alerts_created + again.hits_suppressed, 0u);
  EXPECT_TRUE(record("a", 4, {hit("m9", "zed", "192.0.2.9")}).already_evaluated);
  std::uint64_t seq = 0;
  ASSERT_TRUE(store_->evaluated_sequence("a", seq));
  EXPECT_EQ(seq, 5u);
  ASSERT_TRUE(store_->evaluated_sequence("b", seq));
  EXPECT_EQ(seq, 0u);
  // Agents are independent; an empty batch still advances the watermark.
  EXPECT_FALSE(record("b", 1, {}).already_evaluated);
  ASSERT_TRUE(store_->evaluated_sequence("b", seq));
  EXPECT_EQ(seq, 1u);

  const std::vector<std::int64_t> all = list_ids(AlertQuery{});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(get(all[0]).count, 1u) << "the retransmitted batch must not fold in";
}

TEST_P(AlertStoreTest, RetroactiveScanIsNeverAlreadyEvaluatedAndItsAlertsAreMarked) {
  const RecordHitsResult first = record("", 0, {hit("m1", "alice", "192.0.2.1")});
  ASSERT_EQ(first.alerts_created, 1u);
  EXPECT_TRUE(get(first.created_ids.at(0)).retroactive);
  EXPECT_FALSE(get(record("a", 1, {hit("m2", "alice", "192.0.2.1")}).created_ids.at(0)).retroactive);
  const RecordHitsResult second = record("", 0, {hit("m1", "alice", "192.0.2.1")});
  EXPECT_FALSE(second.already_evaluated);
  EXPECT_EQ(second.hits_suppressed, 1u);
  RecordHitsResult r;
  EXPECT_FALSE(store_->record_hits("", 3, {}, kT0, kHour, {}, r)) << "an agent sequence needs an agent id";
  EXPECT_FALSE(store_->record_hits("a", 0, {}, kT0, kHour, {}, r)) << "sequences start at 1";
}

TEST_P(AlertStoreTest, InvalidHitRejectsTheWholeCall) {
  AlertHit bad = hit("m1", "", "192.0.2.1");
  RecordHitsResult r;
  EXPECT_FALSE(store_->record_hits("a", 1, {hit("m1", "alice", "192.0.2.1"), bad}, kT0, kHour, {"hook"}, r));
  EXPECT_TRUE(list_ids(AlertQuery{}).empty());
  std::uint64_t seq = 9;
  ASSERT_TRUE(store_->evaluated_sequence("a", seq));
  EXPECT_EQ(seq, 0u) << "a rejected batch is not marked evaluated";
}

TEST_P(AlertStoreTest, OutboxHoldsOneEntryPerSinkUntilDelivered) {
  const std::vector<std::string> sinks = {"hook", "syslog", "file"};
  const std::int64_t a1 = record("a", 1, {hit("m1", "alice", "192.0.2.1")}, kT0, kHour, sinks).created_ids.at(0);
  const std::int64_t a2 = record("a", 2, {hit("m1", "bob", "192.0.2.1")}, kT0 + 1, kHour, sinks).created_ids.at(0);
  for (const std::string& sink : sinks) EXPECT_EQ(depth(sink), 2u) << sink;
  EXPECT_EQ(depth("other"), 0u);

  std::vector<OutboxEntry> hook = claim("hook", kT0 + 1);
  ASSERT_EQ(hook.size(), 2u);
  EXPECT_EQ(hook[0].alert_id, a1) << "oldest first";
  EXPECT_EQ(hook[1].alert_id, a2);
  EXPECT_EQ(hook[0].sink, "hook");
  EXPECT_EQ(hook[0].attempts, 0u);
  EXPECT_EQ(hook[0].leased_until_ms, kT0 + 1 + kLease);
  release(hook);
  std::vector<OutboxEntry> early = claim("hook", kT0);
  EXPECT_EQ(early.size(), 1u) << "the second alert is not due before it was created";
  release(early);
  std::vector<OutboxEntry> one = claim("hook", kT0 + 1, 1);
  EXPECT_EQ(one.size(), 1u) << "limit";
  release(one);

  ASSERT_TRUE(store_->mark_failed(hook[0].id, kT0 + 5000, "HTTP 503"));
  std::vector<OutboxEntry> now = claim("hook", kT0 + 4999);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].alert_id, a2) << "a failed entry waits for its next attempt";
  release(now);
  std::vector<OutboxEntry> later = claim("hook", kT0 + 5000);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].attempts, 1u);
  EXPECT_EQ(later[0].last_error, "HTTP 503");
  EXPECT_EQ(later[0].next_attempt_ms, kT0 + 5000);

  ASSERT_TRUE(store_->mark_delivered(later[0].id));
  ASSERT_TRUE(store_->mark_delivered(later[1].id));
  EXPECT_EQ(depth("hook"), 0u);
  EXPECT_TRUE(claim("hook", kT0 + kHour).empty());
  EXPECT_EQ(depth("syslog"), 2u) << "each sink's entries are independent";
}

TEST_P(AlertStoreTest, ClaimedEntriesStayLeasedUntilReleasedFailedOrExpired) {
  const std::int64_t a1 = record("a", 1, {hit("m1", "alice", "192.0.2.1")}).created_ids.at(0);
  const std::int64_t a2 = record("a", 2, {hit("m1", "bob", "192.0.2.1")}).created_ids.at(0);
  const std::vector<OutboxEntry> first = claim("hook", kT0, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].alert_id, a1);
  const std::vector<OutboxEntry> second = claim("hook", kT0);
  ASSERT_EQ(second.size(), 1u) << "a leased entry is skipped, the next one is claimed";
  EXPECT_EQ(second[0].alert_id, a2);
  EXPECT_TRUE(claim("hook", kT0 + kLease - 1).empty()) << "both are leased";
  EXPECT_EQ(depth("hook"), 2u) << "leased entries are still owed";

  // The holder of `first` died: its lease expires and the entry is claimed
  // again, with no attempt counted.
  const std::vector<OutboxEntry> again = claim("hook", kT0 + kLease);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id, first[0].id);
  EXPECT_EQ(again[0].attempts, 0u);
  EXPECT_EQ(again[0].leased_until_ms, kT0 + 2 * kLease);

  ASSERT_TRUE(store_->release_delivery(again[0].id));
  const std::vector<OutboxEntry> released = claim("hook", kT0 + kLease);
  ASSERT_EQ(released.size(), 1u) << "a released entry is due at once";
  EXPECT_EQ(released[0].id, again[0].id);
  ASSERT_TRUE(store_->mark_failed(again[1].id, kT0 + kLease + 10, "timeout"));
  const std::vector<OutboxEntry> retried = claim("hook", kT0 + kLease + 10);
  ASSERT_EQ(retried.size(), 1u) << "a failure ends the lease; the entry is due at its next attempt";
  EXPECT_EQ(retried[0].id, again[1].id);
  EXPECT_EQ(retried[0].attempts, 1u);

  ASSERT_TRUE(store_->mark_delivered(released[0].id));
  ASSERT_TRUE(store_->mark_delivered(retried[0].id));
  EXPECT_EQ(depth("hook"), 0u);
  std::vector<OutboxEntry> entries;
  EXPECT_FALSE(store_->claim_deliveries("hook", kT0, 0, 10, entries)) << "a lease must be positive";
}

TEST_P(AlertStoreTest, StateMovesForwardOnlyAndRecordsWhoWhenAndWhy) {
  const std::int64_t id = record("a", 1, {hit("m1", "alice", "192.0.2.1")}).created_ids.at(0);
  bool found = false;
  ASSERT_TRUE(store_->set_alert_state(id, AlertState::kAcknowledged, "ana", "looking", kT0 + 10, found));
  EXPECT_TRUE(found);
  Alert a = get(id);
  EXPECT_EQ(a.state, AlertState::kAcknowledged);
  EXPECT_EQ(a.state_by, "ana");
  EXPECT_EQ(a.state_note, "looking");
  EXPECT_EQ(a.state_changed_ms, kT0 + 10);
  EXPECT_EQ(a.updated_ms, kT0 + 10);

  // Acknowledging again changes nothing: the first to act stays on record.
  ASSERT_TRUE(store_->set_alert_state(id, AlertState::kAcknowledged, "bo", "me too", kT0 + 20, found));
  EXPECT_EQ(get(id).state_by, "ana");
  EXPECT_FALSE(store_->set_alert_state(id, AlertState::kOpen, "bo", "", kT0 + 30, found)) << "never backwards";
  EXPECT_EQ(get(id).state, AlertState::kAcknowledged);

  ASSERT_TRUE(store_->set_alert_state(id, AlertState::kResolved, "cy", "customer moved", kT0 + 40, found));
  a = get(id);
  EXPECT_EQ(a.state, AlertState::kResolved);
  EXPECT_EQ(a.state_by, "cy");
  EXPECT_EQ(a.state_note, "customer moved");
  EXPECT_EQ(a.state_changed_ms, kT0 + 40);
  EXPECT_FALSE(store_->set_alert_state(id, AlertState::kAcknowledged, "bo", "", kT0 + 50, found));

  // open -> resolved directly; unknown ids are reported, not an error.
  const std::int64_t other = record("a", 2, {hit("m1", "bob", "192.0.2.1")}).created_ids.at(0);
  ASSERT_TRUE(store_->set_alert_state(other, AlertState::kResolved, "ana", "", kT0 + 60, found));
  EXPECT_EQ(get(other).state, AlertState::kResolved);
  ASSERT_TRUE(store_->set_alert_state(other + 1000, AlertState::kResolved, "ana", "", kT0, found));
  EXPECT_FALSE(found);
  Alert missing;
  ASSERT_TRUE(store_->get_alert(other + 1000, missing, found));
  EXPECT_FALSE(found);
}

TEST_P(AlertStoreTest, ListFiltersByStateSeverityMeasureAccountAndTime) {
  auto one = [&](std::uint64_t seq, const char* measure, const char* account, Severity sev, std::int64_t now) {
    return record("a", seq, {hit(measure, account, "192.0.2.1", kT0, 1, sev)}, now).created_ids.at(0);
  };
  const std::int64_t crit = one(1, "m1", "alice", Severity::kCritical, kT0);
  const std::int64_t high = one(2, "m2", "alice", Severity::kHigh, kT0 + 100);
  const std::int64_t review = one(3, "m3", "bob", Severity::kReview, kT0 + 200);
  const std::int64_t info = one(4, "m4", "bob", Severity::kInfo, kT0 + 300);
  bool found = false;
  ASSERT_TRUE(store_->set_alert_state(high, AlertState::kAcknowledged, "ana", "", kT0, found));

  using Ids = std::vector<std::int64_t>;
  EXPECT_EQ(list_ids(AlertQuery{}), (Ids{info, review, high, crit}));
  AlertQuery q;
  q.min_severity = Severity::kHigh;
  EXPECT_EQ(list_ids(q), (Ids{high, crit}));
  q = AlertQuery{};
  q.state = AlertState::kOpen;
  EXPECT_EQ(list_ids(q), (Ids{info, review, crit}));
  q.state = AlertState::kAcknowledged;
  EXPECT_EQ(list_ids(q), (Ids{high}));
  q = AlertQuery{};
  q.measure_id = "m3";
  EXPECT_EQ(list_ids(q), (Ids{review}));
  q = AlertQuery{};
  q.account = "alice";
  EXPECT_EQ(list_ids(q), (Ids{high, crit}));
  q.min_severity = Severity::kCritical;
  EXPECT_EQ(list_ids(q), (Ids{crit}));
  q = AlertQuery{};
  q.since_ms = kT0 + 100;
  q.until_ms = kT0 + 200;
  EXPECT_EQ(list_ids(q), (Ids{review, high}));
  q = AlertQuery{};
  q.account = "nobody";
  EXPECT_TRUE(list_ids(q).empty());
}

TEST_P(AlertStoreTest, ListPagesNewestFirstById) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    const std::string account = "acct" + std::to_string(i);
    ids.push_back(record("a", static_cast<std::uint64_t>(i + 1), {hit("m1", account, "192.0.2.1")}).created_ids.at(0));
  }
  std::vector<std::int64_t> seen;
  AlertQuery q;
  q.limit = 3;
  bool more = true;
  int pages = 0;
  while (more) {
    const std::vector<std::int64_t> page = list_ids(q, &more);
    ASSERT_LE(page.size(), 3u);
    ASSERT_FALSE(page.empty());
    seen.insert(seen.end(), page.begin(), page.end());
    q.before_id = page.back();
    ASSERT_LT(++pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::int64_t>(ids.rbegin(), ids.rend()));
  q = AlertQuery{};
  q.limit = 7;
  list_ids(q, &more);
  EXPECT_FALSE(more) << "exactly one page is not followed by an empty one";
  q.limit = 0;
  EXPECT_TRUE(list_ids(q, &more).empty());
}

TEST_P(AlertStoreTest, HostileTextIsStoredAndMatchedExactly) {
  const std::string nasty = std::string("o'; DROP TABLE alerts;--\0x", 26);
  AlertHit h = hit("m1", nasty, "192.0.2.1");
  h.reason = nasty;
  const std::int64_t id = record("a", 1, {h, hit("m1", "o'; DROP TABLE alerts;--", "192.0.2.1")}).created_ids.at(0);
  EXPECT_EQ(get(id).first_hit.account, nasty);
  EXPECT_EQ(get(id).first_hit.reason, nasty);
  AlertQuery q;
  q.account = nasty;
  EXPECT_EQ(list_ids(q), std::vector<std::int64_t>{id});
}

TEST_P(AlertStoreTest, ReopenKeepsAlertsStateWatermarkAndPendingOutbox) {
  const std::int64_t id =
      record("a", 3, {hit("m1", "alice", "192.0.2.1")}, kT0, kHour, {"hook", "file"}).created_ids.at(0);
  bool found = false;
  ASSERT_TRUE(store_->set_alert_state(id, AlertState::kAcknowledged, "ana", "n", kT0 + 1, found));
  const std::vector<OutboxEntry> before = claim("hook", kT0);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_TRUE(store_->mark_failed(before[0].id, kT0 + 100, "connection refused"));
  ASSERT_TRUE(store_->mark_delivered(claim("file", kT0).at(0).id));
  const Alert was = get(id);

  reopen();
  EXPECT_EQ(get(id), was);
  std::uint64_t seq = 0;
  ASSERT_TRUE(store_->evaluated_sequence("a", seq));
  EXPECT_EQ(seq, 3u);
  EXPECT_TRUE(record("a", 3, {hit("m1", "alice", "192.0.2.1")}).already_evaluated);
  EXPECT_EQ(depth("file"), 0u);
  const std::vector<OutboxEntry> after = claim("hook", kT0 + 100);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].alert_id, id);
  EXPECT_EQ(after[0].attempts, 1u);
  EXPECT_EQ(after[0].last_error, "connection refused");
  // Dedup continues across the reopen.
  EXPECT_EQ(record("a", 4, {hit("m1", "alice", "192.0.2.1")}, kT0 + 10).hits_suppressed, 1u);
}

const AlertStoreFactory kSqliteFactory{"sqlite",
                                       [](const std::string& dir, std::unique_ptr<AlertStore>& store) {
                                         SqliteAlertStoreOptions options;
                                         options.path = dir + "/alerts.sqlite3";
                                         return open_sqlite_alert_store(options, store);
                                       },
                                       nullptr};

// One database per test directory on this process's throwaway server
// (tests/support/postgres_server.h); the same dir reopens the same database.
const AlertStoreFactory kPostgresFactory{
    "postgresql",
    [](const std::string& dir, std::unique_ptr<AlertStore>& store) {
      std::string why;
      test_support::PostgresServer* server = test_support::shared_postgres_server(why);
      if (server == nullptr) return Status::error("no postgresql server: " + why);
      std::string database = "alerts_";
      for (unsigned char c : std::filesystem::path(dir).filename().string()) database += fmt::format("{:02x}", c);
      if (Status s = server->ensure_database(database); !s) return s;
      PostgresAlertStoreOptions options;
      options.conninfo = server->conninfo(database);
      options.connections = 2;
      return open_postgres_alert_store(options, store);
    },
    [] {
      std::string why;
      return test_support::shared_postgres_server(why) == nullptr ? "no PostgreSQL server: " + why : std::string();
    }};

INSTANTIATE_TEST_SUITE_P(Stores, AlertStoreTest, ::testing::Values(kSqliteFactory, kPostgresFactory),
                         [](const ::testing::TestParamInfo<AlertStoreFactory>& info) { return info.param.name; });

}  // namespace
}  // namespace ipattrib::collector
