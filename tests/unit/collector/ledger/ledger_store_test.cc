// Behaviour every LedgerStore must have, run against each implementation
// through a factory (the PostgreSQL store adds its own instantiation).
#include "collector/ledger/ledger_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "collector/ledger/postgresql/postgres_ledger_store.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "tests/support/postgres_server.h"

namespace ipattrib::collector {
namespace {

// Opens the ledger kept under `dir` (fresh per test); opening the same dir
// again reopens the same ledger. `unavailable` (if set) says why the store
// cannot run here, and the test skips.
struct LedgerStoreFactory {
  std::string name;
  std::function<Status(const std::string& dir, std::unique_ptr<LedgerStore>&)> open;
  std::function<std::string()> unavailable;
};

void PrintTo(const LedgerStoreFactory& factory, std::ostream* os) { *os << factory.name; }

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

std::string fmt_v6(int i) { return "2001:db8::" + std::to_string(1000 + i); }

AttributionRecord record(std::string account, const char* address, std::vector<std::int64_t> times,
                         RecordClass cls = RecordClass::kAccess, std::string gateway = "gw1",
                         std::string country = "US") {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = ip(address);
  r.access_class = cls;
  r.gateway = std::move(gateway);
  r.geo.country = std::move(country);
  r.access_times_ms = std::move(times);
  return r;
}

RecordBatch batch(std::string agent, std::uint64_t sequence, std::vector<AttributionRecord> records) {
  RecordBatch b;
  b.agent_id = std::move(agent);
  b.sequence = sequence;
  b.records = std::move(records);
  return b;
}

std::vector<std::int64_t> times_of(const std::vector<Access>& accesses) {
  std::vector<std::int64_t> out;
  for (const Access& a : accesses) out.push_back(a.time_ms);
  return out;
}

class LedgerStoreTest : public ::testing::TestWithParam<LedgerStoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) {
      if (const std::string why = GetParam().unavailable(); !why.empty()) GTEST_SKIP() << "skipped: " << why;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "ledger-test-XXXXXX").string();
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
  ApplyResult apply(const RecordBatch& b) {
    ApplyResult result;
    Status s = store_->apply_batch(b, result);
    EXPECT_TRUE(s) << s.message();
    return result;
  }
  std::vector<IpSummary> ips(AccountIpsQuery q) {
    Page<IpSummary> page;
    Status s = store_->account_ips(q, page);
    EXPECT_TRUE(s) << s.message();
    return page.items;
  }
  std::vector<IpSummary> ips(const std::string& account) {
    AccountIpsQuery q;
    q.account = account;
    return ips(q);
  }
  // Every access the query selects, gathered page by page.
  std::vector<Access> all_accesses(AccountAccessesQuery q, std::uint32_t page_size = 1000) {
    q.limit = page_size;
    std::vector<Access> out;
    for (int pages = 0; pages < 100000; ++pages) {
      AccessPage page;
      Status s = store_->account_accesses(q, page);
      EXPECT_TRUE(s) << s.message();
      if (!s) break;
      EXPECT_LE(page.items.size(), page_size);
      out.insert(out.end(), page.items.begin(), page.items.end());
      if (!page.next) break;
      EXPECT_FALSE(page.items.empty());
      q.after = *page.next;
    }
    return out;
  }
  std::vector<Access> all_accesses(const std::string& account) {
    AccountAccessesQuery q;
    q.account = account;
    return all_accesses(q);
  }
  std::vector<IpSummary> network(const char* cidr, TimeRange range = {}) {
    NetworkAccountsQuery q;
    q.network = *Cidr::parse(cidr);
    q.range = range;
    Page<IpSummary> page;
    Status s = store_->network_accounts(q, page);
    EXPECT_TRUE(s) << s.message();
    return page.items;
  }
  bool exists(const std::string& account) {
    bool found = false;
    EXPECT_TRUE(store_->account_exists(account, found));
    return found;
  }
  std::uint64_t highest(const std::string& agent) {
    std::uint64_t sequence = 0;
    EXPECT_TRUE(store_->highest_sequence(agent, sequence));
    return sequence;
  }

  std::string dir_;
  std::unique_ptr<LedgerStore> store_;
};

TEST_P(LedgerStoreTest, AppliesBatchAndReportsCounts) {
  ApplyResult r =
      apply(batch("agent-a", 1,
                  {record("acct1", "192.0.2.1", {1000, 1001, 1500}),
                   record("acct1", "2001:db8::1", {2000}, RecordClass::kAdmin), record("acct2", "192.0.2.1", {3000})}));
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.records_applied, 3u);
  EXPECT_EQ(r.accesses_applied, 5u);
  EXPECT_EQ(r.summaries_created, 3u);
  EXPECT_EQ(highest("agent-a"), 1u);
  EXPECT_EQ(highest("agent-b"), 0u);
  EXPECT_TRUE(exists("acct1"));
  EXPECT_TRUE(exists("acct2"));
  EXPECT_FALSE(exists("acct3"));
  EXPECT_FALSE(exists("acct"));
  EXPECT_EQ(times_of(all_accesses("acct1")), (std::vector<std::int64_t>{1000, 1001, 1500, 2000}));
}

TEST_P(LedgerStoreTest, RetransmittedBatchIsAcknowledgedButNotApplied) {
  const RecordBatch b = batch("agent-a", 1, {record("acct1", "192.0.2.1", {1000, 1001})});
  EXPECT_FALSE(apply(b).duplicate);
  const ApplyResult again = apply(b);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.accesses_applied, 0u);
  EXPECT_EQ(all_accesses("acct1").size(), 2u);
  EXPECT_EQ(ips("acct1").at(0).access_count, 2u);
}

TEST_P(LedgerStoreTest, SequenceAtOrBelowHighestIsDuplicateEvenIfNeverSeen) {
  EXPECT_FALSE(apply(batch("a", 1, {record("x", "192.0.2.1", {1})})).duplicate);
  EXPECT_FALSE(apply(batch("a", 5, {record("x", "192.0.2.1", {5})})).duplicate);  // gap is allowed
  // Agents send in order, so 3 arriving after 5 is a stale retransmission.
  EXPECT_TRUE(apply(batch("a", 3, {record("x", "192.0.2.1", {3})})).duplicate);
  EXPECT_TRUE(apply(batch("a", 5, {record("x", "192.0.2.1", {5})})).duplicate);
  EXPECT_FALSE(apply(batch("a", 6, {record("x", "192.0.2.1", {6})})).duplicate);
  EXPECT_EQ(highest("a"), 6u);
  EXPECT_EQ(times_of(all_accesses("x")), (std::vector<std::int64_t>{1, 5, 6}));
}

TEST_P(LedgerStoreTest, AgentsHaveIndependentSequences) {
  EXPECT_FALSE(apply(batch("a", 7, {record("x", "192.0.2.1", {1})})).duplicate);
  EXPECT_FALSE(apply(batch("b", 1, {record("x", "192.0.2.1", {2})})).duplicate);
  EXPECT_FALSE(apply(batch("b", 2, {record("x", "192.0.2.1", {3})})).duplicate);
  EXPECT_TRUE(apply(batch("a", 7, {record("x", "192.0.2.1", {4})})).duplicate);
  EXPECT_EQ(highest("a"), 7u);
  EXPECT_EQ(highest("b"), 2u);
  EXPECT_EQ(times_of(all_accesses("x")), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_P(LedgerStoreTest, InvalidBatchIsRejectedWhole) {
  ApplyResult r;
  EXPECT_FALSE(store_->apply_batch(batch("a", 0, {record("x", "192.0.2.1", {1})}), r));
  EXPECT_FALSE(store_->apply_batch(batch("", 1, {record("x", "192.0.2.1", {1})}), r));
  AttributionRecord no_ip = record("y", "192.0.2.1", {2});
  no_ip.client_ip = IpAddress();
  EXPECT_FALSE(store_->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {1}), no_ip}), r));
  EXPECT_FALSE(store_->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {1}), record("", "192.0.2.1", {1})}), r));
  EXPECT_FALSE(store_->apply_batch(batch("a", 1, {record("x", "192.0.2.1", {})}), r));
  EXPECT_FALSE(exists("x"));
  EXPECT_EQ(highest("a"), 0u);
}

TEST_P(LedgerStoreTest, SummaryKeepsFirstAndLastSightWhateverTheArrivalOrder) {
  AttributionRecord middle = record("acct", "192.0.2.9", {5000, 6000}, RecordClass::kAccess, "gw-b", "DE");
  middle.ip_source = RecordIpSource::kXForwardedFor;
  middle.principal = "alice";
  middle.geo.asn = 64500;
  AttributionRecord late = record("acct", "192.0.2.9", {9000}, RecordClass::kAccess, "gw-a", "FR");
  late.ip_source = RecordIpSource::kForwarded;
  AttributionRecord early = record("acct", "192.0.2.9", {1000}, RecordClass::kAccess, "gw-c", "NL");
  early.principal = "bob";
  apply(batch("a", 1, {middle}));
  apply(batch("b", 1, {late}));
  apply(batch("c", 1, {early}));  // an agent that was offline ships old accesses
  const auto summaries = ips("acct");
  ASSERT_EQ(summaries.size(), 1u);
  const IpSummary& s = summaries[0];
  EXPECT_EQ(s.account, "acct");
  EXPECT_EQ(s.ip, ip("192.0.2.9"));
  EXPECT_TRUE(s.ip.is_v4());
  EXPECT_EQ(s.first_seen_ms, 1000);
  EXPECT_EQ(s.last_seen_ms, 9000);
  EXPECT_EQ(s.access_count, 4u);
  EXPECT_EQ(s.first_geo.country, "NL");
  EXPECT_EQ(s.last_geo.country, "FR");
  EXPECT_EQ(s.ip_source, RecordIpSource::kForwarded);
  EXPECT_EQ(s.last_principal, "alice");  // the latest record named nobody; bob's record is older
  EXPECT_EQ(s.gateways, (std::vector<std::string>{"gw-a", "gw-b", "gw-c"}));
  const auto accesses = all_accesses("acct");
  ASSERT_EQ(accesses.size(), 4u);
  EXPECT_EQ(accesses[0], (Access{1000, ip("192.0.2.9"), RecordClass::kAccess, "gw-c"}));
  EXPECT_EQ(accesses[3], (Access{9000, ip("192.0.2.9"), RecordClass::kAccess, "gw-a"}));
}

TEST_P(LedgerStoreTest, GeoAtFirstSightIsStoredWhole) {
  AttributionRecord r = record("acct", "2001:db8::5", {10});
  r.geo = RecordGeo{"UA", "RU", "UA-43", 12345, "Example AS", 0x21, 1700000000};
  apply(batch("a", 1, {r}));
  const auto s = ips("acct");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].first_geo, r.geo);
  EXPECT_EQ(s[0].last_geo, r.geo);
  EXPECT_TRUE(s[0].ip.is_v6());
}

TEST_P(LedgerStoreTest, AccountIpsFiltersByTimeClassAndCountry) {
  apply(batch("a", 1,
              {record("acct", "192.0.2.1", {100, 200}, RecordClass::kAccess, "gw", "US"),
               record("acct", "192.0.2.2", {300, 400}, RecordClass::kAdmin, "gw", "CN"),
               record("acct", "192.0.2.3", {500}, RecordClass::kAccess, "gw", "RU")}));
  apply(batch("a", 2, {record("acct", "192.0.2.3", {600}, RecordClass::kAccess, "gw", "IR")}));
  auto addresses = [](const std::vector<IpSummary>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.ip.to_string());
    return out;
  };
  AccountIpsQuery q;
  q.account = "acct";
  EXPECT_EQ(addresses(ips(q)), (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3"}));
  q.range = TimeRange{200, 300};  // inclusive at both ends
  EXPECT_EQ(addresses(ips(q)), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  q.range = TimeRange{201, 299};
  EXPECT_TRUE(ips(q).empty());
  q.range = {};
  q.access_class = RecordClass::kAdmin;
  EXPECT_EQ(addresses(ips(q)), (std::vector<std::string>{"192.0.2.2"}));
  q.access_class.reset();
  q.country = "RU";  // at first sight
  EXPECT_EQ(addresses(ips(q)), (std::vector<std::string>{"192.0.2.3"}));
  q.country = "IR";  // at last sight
  EXPECT_EQ(addresses(ips(q)), (std::vector<std::string>{"192.0.2.3"}));
  q.country = "KP";
  EXPECT_TRUE(ips(q).empty());
}

TEST_P(LedgerStoreTest, AccountIpsPagesWithOffset) {
  std::vector<AttributionRecord> records;
  for (int i = 0; i < 25; ++i) records.push_back(record("acct", ("10.0.0." + std::to_string(i)).c_str(), {i + 1}));
  apply(batch("a", 1, records));
  AccountIpsQuery q;
  q.account = "acct";
  q.limit = 10;
  std::vector<IpAddress> seen;
  for (int page = 0; page < 5; ++page) {
    Page<IpSummary> p;
    ASSERT_TRUE(store_->account_ips(q, p));
    for (const auto& s : p.items) seen.push_back(s.ip);
    EXPECT_EQ(p.more, page < 2);
    if (!p.more) break;
    q.offset += q.limit;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
}

TEST_P(LedgerStoreTest, AccessesFilterByRangeIpAndClass) {
  apply(batch(
      "a", 1,
      {record("acct", "192.0.2.1", {100, 200, 300}),
       record("acct", "192.0.2.2", {150, 250}, RecordClass::kAdmin, "gw2"), record("other", "192.0.2.1", {120})}));
  AccountAccessesQuery q;
  q.account = "acct";
  EXPECT_EQ(times_of(all_accesses(q)), (std::vector<std::int64_t>{100, 150, 200, 250, 300}));
  q.range = TimeRange{150, 250};
  EXPECT_EQ(times_of(all_accesses(q)), (std::vector<std::int64_t>{150, 200, 250}));
  q.ip = ip("192.0.2.1");
  EXPECT_EQ(times_of(all_accesses(q)), (std::vector<std::int64_t>{200}));
  q.ip.reset();
  q.range = {};
  q.access_class = RecordClass::kAdmin;
  const auto admin = all_accesses(q);
  ASSERT_EQ(admin.size(), 2u);
  EXPECT_EQ(admin[0], (Access{150, ip("192.0.2.2"), RecordClass::kAdmin, "gw2"}));
  q.access_class.reset();
  q.ip = ip("::ffff:192.0.2.1");  // same bytes, other family: a different address
  EXPECT_TRUE(all_accesses(q).empty());
  q.ip.reset();
  q.account = "nobody";
  EXPECT_TRUE(all_accesses(q).empty());
}

// Equal times order by (ip, class, gateway) even when the chunk holding the
// first of them in that order is read after a chunk that already filled the page.
TEST_P(LedgerStoreTest, TiesAtAPageBoundaryKeepTheirOrder) {
  apply(batch("a", 1,
              {record("acct", "192.0.2.1", {10, 20, 20, 20, 20, 20, 20, 20}, RecordClass::kAccess, "gw-b"),
               record("acct", "192.0.2.1", {20}, RecordClass::kAccess, "gw-a")}));
  std::vector<std::string> expected = {"gw-b", "gw-a"};
  expected.insert(expected.end(), 7, "gw-b");
  for (std::uint32_t page_size : {1u, 2u, 3u, 100u}) {
    AccountAccessesQuery q;
    q.account = "acct";
    std::vector<std::string> gateways;
    for (const Access& a : all_accesses(q, page_size)) gateways.push_back(a.gateway);
    EXPECT_EQ(gateways, expected) << "page size " << page_size;
  }
}

// Random batches against an in-memory model: every page size, every range,
// the pages concatenated equal the model exactly (ties at one millisecond
// included, chunks appended across batches and split at the chunk bounds).
TEST_P(LedgerStoreTest, PagedAccessesEqualTheModel) {
  std::mt19937_64 rng(42);
  const std::vector<const char*> addresses = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "10.1.2.3"};
  const std::vector<std::string> gateways = {"gw-a", "gw-b"};
  std::vector<Access> model;
  std::int64_t clock = 1'700'000'000'000;
  for (std::uint64_t seq = 1; seq <= 60; ++seq) {
    std::vector<AttributionRecord> records;
    for (int r = 0; r < 4; ++r) {
      const char* address = addresses[rng() % addresses.size()];
      const auto cls = static_cast<RecordClass>(rng() % 2);
      const std::string& gw = gateways[rng() % gateways.size()];
      std::vector<std::int64_t> times;
      std::int64_t t = clock + static_cast<std::int64_t>(rng() % 1000);
      const int n = seq == 30 && r == 0 ? 1500 : 1 + static_cast<int>(rng() % 40);  // one record over 3 chunks
      for (int i = 0; i < n; ++i) {
        times.push_back(t);
        t += static_cast<std::int64_t>(rng() % 3);  // many equal times
        model.push_back(Access{times.back(), ip(address), cls, gw});
      }
      records.push_back(record("acct", address, times, cls, gw));
    }
    apply(batch("a", seq, records));
    clock += seq % 10 == 0 ? 2 * 24 * 3600 * 1000LL : 1000;  // some gaps longer than a chunk's span
  }
  std::sort(model.begin(), model.end(), [](const Access& a, const Access& b) {
    return std::tie(a.time_ms, a.ip, a.access_class, a.gateway) < std::tie(b.time_ms, b.ip, b.access_class, b.gateway);
  });
  AccountAccessesQuery q;
  q.account = "acct";
  for (std::uint32_t page_size : {3u, 100u, 100000u}) {
    EXPECT_EQ(all_accesses(q, page_size), model) << "page size " << page_size;
  }
  for (int i = 0; i < 20; ++i) {
    const std::int64_t a = model[rng() % model.size()].time_ms;
    const std::int64_t b = model[rng() % model.size()].time_ms;
    q.range = TimeRange{std::min(a, b), std::max(a, b)};
    std::vector<Access> expected;
    for (const Access& x : model) {
      if (q.range.contains(x.time_ms)) expected.push_back(x);
    }
    EXPECT_EQ(all_accesses(q, 13), expected) << "range " << q.range.since_ms << ".." << q.range.until_ms;
  }
  AccountExport out;
  ASSERT_TRUE(store_->export_account("acct", out));
  EXPECT_EQ(out.accesses, model);
  std::uint64_t total = 0;
  for (const auto& s : out.ips) total += s.access_count;
  EXPECT_EQ(total, model.size());
}

TEST_P(LedgerStoreTest, NetworkLookupFindsAccountsInV4AndV6Networks) {
  apply(
      batch("a", 1,
            {record("a1", "192.0.2.1", {100}), record("a2", "192.0.2.255", {200}), record("a3", "192.0.3.0", {300}),
             record("a4", "0.0.0.0", {50}), record("a5", "255.255.255.255", {60}), record("v6a", "2001:db8::1", {400}),
             record("v6b", "2001:db8::ffff:ffff", {500}), record("v6c", "2001:db9::", {600}),
             record("v6max", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", {700}), record("v6min", "::", {800})}));
  auto accounts = [](const std::vector<IpSummary>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.account);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(accounts(network("192.0.2.1/32")), V{"a1"});
  EXPECT_EQ(accounts(network("192.0.2.1")), V{"a1"});
  EXPECT_EQ(accounts(network("192.0.2.2/32")), V{});
  EXPECT_EQ(accounts(network("192.0.2.0/24")), (V{"a1", "a2"}));
  EXPECT_EQ(accounts(network("192.0.2.0/23")), (V{"a1", "a2", "a3"}));
  EXPECT_EQ(accounts(network("0.0.0.0/0")), (V{"a4", "a1", "a2", "a3", "a5"}));  // no v6 account
  EXPECT_EQ(accounts(network("255.255.255.255/32")), V{"a5"});
  EXPECT_EQ(accounts(network("2001:db8::1/128")), V{"v6a"});
  EXPECT_EQ(accounts(network("2001:db8::/32")), (V{"v6a", "v6b"}));
  EXPECT_EQ(accounts(network("2001:db8::/31")), (V{"v6a", "v6b", "v6c"}));
  EXPECT_EQ(accounts(network("::/0")), (V{"v6min", "v6a", "v6b", "v6c", "v6max"}));  // no v4 account
  EXPECT_EQ(accounts(network("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")), V{"v6max"});
  EXPECT_EQ(accounts(network("::/128")), V{"v6min"});
  EXPECT_EQ(accounts(network("192.0.2.0/24", TimeRange{150, 1000})), V{"a2"});
}

TEST_P(LedgerStoreTest, NetworkLookupPages) {
  std::vector<AttributionRecord> records;
  for (int i = 0; i < 12; ++i) records.push_back(record("acct" + std::to_string(i), "198.51.100.7", {i + 1}));
  apply(batch("a", 1, records));
  NetworkAccountsQuery q;
  q.network = *Cidr::parse("198.51.100.0/24");
  q.limit = 5;
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    Page<IpSummary> page;
    ASSERT_TRUE(store_->network_accounts(q, page));
    for (const auto& s : page.items) seen.push_back(s.account);
    if (!page.more) break;
    q.offset += q.limit;
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_P(LedgerStoreTest, HostileAccountIdsAreStoredAndFoundExactly) {
  const std::vector<std::string> hostile = {
      "'; DROP TABLE summaries;--",
      "\"; DELETE FROM access_chunks; --",
      std::string("nul\0inside", 10),
      std::string("\0", 1),
      std::string(10 * 1024, 'A') + "'",
      "Ünïcødé 账户 🚀",
      "%",
      "_",
      "acct' OR '1'='1",
      "\xff\xfe not utf-8",
  };
  std::vector<AttributionRecord> records;
  std::int64_t t = 1;
  for (const std::string& account : hostile) records.push_back(record(account, "192.0.2.1", {t++}));
  records.push_back(record("plain", "192.0.2.1", {t++}));
  AttributionRecord hostile_gateway = record("plain", "192.0.2.2", {t++}, RecordClass::kAccess, "gw'); --\n");
  records.push_back(hostile_gateway);
  apply(batch(std::string("agent'\0x", 8), 1, records));
  EXPECT_EQ(highest(std::string("agent'\0x", 8)), 1u);
  EXPECT_EQ(highest("agent'"), 0u);
  for (const std::string& account : hostile) {
    SCOPED_TRACE(account.substr(0, 40));
    EXPECT_TRUE(exists(account));
    const auto s = ips(account);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].account, account);
    EXPECT_EQ(all_accesses(account).size(), 1u);
  }
  EXPECT_FALSE(exists("nul"));
  EXPECT_FALSE(exists("acct"));
  EXPECT_EQ(ips("plain").size(), 2u);
  EXPECT_EQ(ips("plain").at(1).gateways, std::vector<std::string>{"gw'); --\n"});
  EXPECT_EQ(network("192.0.2.1").size(), hostile.size() + 1);
}

TEST_P(LedgerStoreTest, RetentionDeletesOldDetailAndSummaries) {
  apply(batch("a", 1,
              {record("old", "192.0.2.1", {100, 200}), record("mixed", "192.0.2.2", {300, 999, 1000, 1001, 2000}),
               record("new", "192.0.2.3", {1500})}));
  apply(batch("a", 2, {record("mixed", "192.0.2.4", {500})}));
  RetentionResult r;
  ASSERT_TRUE(store_->apply_retention(1000, r));
  EXPECT_EQ(r.accesses_deleted, 5u);   // 100, 200, 300, 999, 500
  EXPECT_EQ(r.summaries_deleted, 2u);  // old/192.0.2.1, mixed/192.0.2.4
  EXPECT_FALSE(exists("old"));
  EXPECT_EQ(times_of(all_accesses("mixed")), (std::vector<std::int64_t>{1000, 1001, 2000}));
  EXPECT_EQ(times_of(all_accesses("new")), (std::vector<std::int64_t>{1500}));
  const auto mixed = ips("mixed");
  ASSERT_EQ(mixed.size(), 1u);
  EXPECT_EQ(mixed[0].ip, ip("192.0.2.2"));
  EXPECT_EQ(mixed[0].access_count, 5u);  // the summary counts its whole life
  EXPECT_TRUE(network("192.0.2.1").empty());
  ASSERT_TRUE(store_->apply_retention(1000, r));
  EXPECT_EQ(r.accesses_deleted, 0u);
  EXPECT_EQ(r.summaries_deleted, 0u);
  // A trimmed chunk still takes appends.
  apply(batch("a", 3, {record("mixed", "192.0.2.2", {2500})}));
  EXPECT_EQ(times_of(all_accesses("mixed")), (std::vector<std::int64_t>{1000, 1001, 2000, 2500}));
}

TEST_P(LedgerStoreTest, ReopenKeepsEverything) {
  apply(batch("a", 3, {record("acct", "192.0.2.1", {1, 2}), record("acct", "2001:db8::2", {3}, RecordClass::kAdmin)}));
  AccountExport before;
  ASSERT_TRUE(store_->export_account("acct", before));
  reopen();
  AccountExport after;
  ASSERT_TRUE(store_->export_account("acct", after));
  EXPECT_EQ(after.ips, before.ips);
  EXPECT_EQ(after.accesses, before.accesses);
  EXPECT_EQ(after.accesses.size(), 3u);
  EXPECT_EQ(highest("a"), 3u);
  EXPECT_TRUE(apply(batch("a", 3, {record("acct", "192.0.2.1", {9})})).duplicate);
  apply(batch("a", 4, {record("acct", "192.0.2.1", {10})}));
  EXPECT_EQ(times_of(all_accesses("acct")), (std::vector<std::int64_t>{1, 2, 3, 10}));
}

TEST_P(LedgerStoreTest, IngestAndQueriesFromSeveralThreads) {
  std::thread writer([&] {
    for (std::uint64_t seq = 1; seq <= 50; ++seq) {
      ApplyResult r;
      EXPECT_TRUE(
          store_->apply_batch(batch("a", seq, {record("acct", "192.0.2.1", {static_cast<std::int64_t>(seq)})}), r));
    }
  });
  std::size_t last_seen = 0;
  for (int i = 0; i < 50; ++i) {
    AccountAccessesQuery q;
    q.account = "acct";
    AccessPage page;
    ASSERT_TRUE(store_->account_accesses(q, page));
    EXPECT_GE(page.items.size(), last_seen);  // committed accesses never disappear
    last_seen = page.items.size();
  }
  writer.join();
  EXPECT_EQ(all_accesses("acct").size(), 50u);
}

// Batch `seq` of the crash test: its own accounts plus one access at time
// `seq` for a shared account, so a half-applied or doubled batch shows.
RecordBatch crash_batch(std::uint64_t seq) {
  std::vector<AttributionRecord> records;
  const auto t = static_cast<std::int64_t>(seq);
  for (int k = 0; k < 4; ++k) {
    records.push_back(record("crash-" + std::to_string(seq) + "-" + std::to_string(k), "192.0.2.1", {t, t + 1, t + 2}));
  }
  records.push_back(record("shared", "198.51.100.1", {t}));
  return batch("crashing-agent", seq, records);
}

TEST_P(LedgerStoreTest, KilledWriterLeavesExactlyTheAcknowledgedBatches) {
  store_.reset();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    std::unique_ptr<LedgerStore> store;
    if (!GetParam().open(dir_, store)) _exit(2);
    for (std::uint64_t seq = 1; seq < 1000000; ++seq) {
      ApplyResult r;
      if (!store->apply_batch(crash_batch(seq), r)) _exit(3);
      if (write(fds[1], &seq, sizeof(seq)) != sizeof(seq)) _exit(4);  // the "ack"
    }
    _exit(0);
  }
  close(fds[1]);
  std::uint64_t acked = 0;
  std::uint64_t seq = 0;
  while (acked < 40 && read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) acked = seq;
  ASSERT_EQ(kill(child, SIGKILL), 0);
  while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) acked = seq;  // acks sent before the kill
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  reopen();
  const std::uint64_t committed = highest("crashing-agent");
  EXPECT_GE(committed, acked);
  EXPECT_LE(committed, acked + 1);  // at most the batch committed but not yet acknowledged
  std::vector<std::int64_t> expected;
  for (std::uint64_t s = 1; s <= committed; ++s) expected.push_back(static_cast<std::int64_t>(s));
  EXPECT_EQ(times_of(all_accesses("shared")), expected);
  for (std::uint64_t s = 1; s <= committed + 2; ++s) {
    for (int k = 0; k < 4; ++k) {
      const std::string account = "crash-" + std::to_string(s) + "-" + std::to_string(k);
      EXPECT_EQ(all_accesses(account).size(), s <= committed ? 3u : 0u) << account;
    }
  }
  // The agent retransmits what it saw unacknowledged: nothing doubles.
  for (std::uint64_t s = acked + 1; s <= committed + 1; ++s) apply(crash_batch(s));
  expected.push_back(static_cast<std::int64_t>(committed + 1));
  EXPECT_EQ(times_of(all_accesses("shared")), expected);
}

// Summaries come in (account, ip, class) order across page boundaries, the
// visitor can stop the scan, and it may query the store while scanning.
TEST_P(LedgerStoreTest, ScanSummariesVisitsEverySummaryInKeyOrder) {
  std::vector<AttributionRecord> records;
  std::vector<std::tuple<std::string, std::array<std::uint8_t, 16>, RecordClass>> expected;
  for (int a = 0; a < 7; ++a) {
    for (int i = 0; i < 180; ++i) {  // 1260 summaries: several pages
      const std::string account = "acct-" + std::to_string((a * 5) % 7);
      const std::string address =
          i % 3 == 0 ? fmt_v6(i) : "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".9";
      const RecordClass cls = i % 2 == 0 ? RecordClass::kAccess : RecordClass::kAdmin;
      records.push_back(record(account, address.c_str(), {1000 + i}, cls));
      expected.emplace_back(account, ip(address.c_str()).bytes(), cls);
    }
  }
  apply(batch("agent", 1, records));
  std::sort(expected.begin(), expected.end());

  std::vector<std::tuple<std::string, std::array<std::uint8_t, 16>, RecordClass>> seen;
  std::uint64_t accesses_read = 0;
  Status s = store_->scan_summaries([&](const IpSummary& summary) {
    seen.emplace_back(summary.account, summary.ip.bytes(), summary.access_class);
    EXPECT_EQ(summary.access_count, 1u);
    EXPECT_EQ(summary.gateways, std::vector<std::string>{"gw1"});
    if (seen.size() % 500 == 0) accesses_read += all_accesses(summary.account).size();
    return true;
  });
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(accesses_read, 2u * 180u);  // at the 500th and 1000th summary

  std::size_t visited = 0;
  ASSERT_TRUE(store_->scan_summaries([&](const IpSummary&) { return ++visited < 600; }));
  EXPECT_EQ(visited, 600u);
}

TEST_P(LedgerStoreTest, ScanSummariesOfAnEmptyLedgerVisitsNothing) {
  bool visited = false;
  ASSERT_TRUE(store_->scan_summaries([&](const IpSummary&) { return visited = true; }));
  EXPECT_FALSE(visited);
}

const LedgerStoreFactory kSqliteFactory{"sqlite",
                                        [](const std::string& dir, std::unique_ptr<LedgerStore>& store) {
                                          SqliteLedgerOptions options;
                                          options.path = dir + "/ledger.sqlite3";
                                          return open_sqlite_ledger_store(options, store);
                                        },
                                        nullptr};

// One database per test directory on this process's throwaway server
// (tests/support/postgres_server.h); the same dir reopens the same database.
const LedgerStoreFactory kPostgresFactory{
    "postgresql",
    [](const std::string& dir, std::unique_ptr<LedgerStore>& store) {
      std::string why;
      test_support::PostgresServer* server = test_support::shared_postgres_server(why);
      if (server == nullptr) return Status::error("no postgresql server: " + why);
      std::string database = "ledger_";
      for (unsigned char c : std::filesystem::path(dir).filename().string()) database += fmt::format("{:02x}", c);
      if (Status s = server->ensure_database(database); !s) return s;
      PostgresLedgerOptions options;
      options.conninfo = server->conninfo(database);
      options.write_connections = 2;
      return open_postgres_ledger_store(options, store);
    },
    [] {
      std::string why;
      return test_support::shared_postgres_server(why) == nullptr ? "no PostgreSQL server: " + why : std::string();
    }};

INSTANTIATE_TEST_SUITE_P(Stores, LedgerStoreTest, ::testing::Values(kSqliteFactory, kPostgresFactory),
                         [](const ::testing::TestParamInfo<LedgerStoreFactory>& info) { return info.param.name; });

}  // namespace
}  // namespace ipattrib::collector
