#include "agent/ship/aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ipattrib/wire/batch_codec.h"

namespace ipattrib::agent {
namespace {

struct CollectingSink : RecordBatchSink {
  void on_batch(RecordBatch&& batch) override { batches.push_back(std::move(batch)); }
  std::vector<RecordBatch> batches;
};

struct CountingSequences : SequenceCounter {
  std::uint64_t next_sequence() override { return ++last; }
  std::uint64_t last = 0;
};

struct MapStats : StatsSink {
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

AccessEvent event_at(std::int64_t ms, std::string_view account, const char* ip = "192.0.2.1") {
  AccessEvent e;
  e.ts_us = ms * 1000 + 123;  // sub-millisecond part is dropped, not rounded
  e.client_ip = *IpAddress::parse(ip);
  e.has_account = !account.empty();
  e.account = account;
  return e;
}

AggregatorOptions options() {
  AggregatorOptions o;
  o.agent_id = "agent-1";
  o.gateway = "gw-1";
  return o;
}

std::size_t total_records(const std::vector<RecordBatch>& batches) {
  std::size_t n = 0;
  for (const auto& b : batches) n += b.records.size();
  return n;
}

using Key = std::tuple<std::string, std::string, std::string, int, int>;

Key key_of(const AttributionRecord& r) {
  return {r.account, r.principal, r.client_ip.to_string(), static_cast<int>(r.access_class),
          static_cast<int>(r.ip_source)};
}

TEST(AggregatorTest, RandomEventsKeepEveryAccessTime) {
  const std::vector<std::string> accounts = {"a1", "a2", "a3", "acct-with-a-longer-id-0000000000000000"};
  const std::vector<std::string> principals = {"", "alice", "bob"};
  const std::vector<std::string> ips = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "198.51.100.7"};
  std::mt19937_64 rng(42);
  CollectingSink sink;
  CountingSequences sequences;
  AggregatorOptions o = options();
  o.flush_window_ms = 250;
  o.max_records_per_window = 7;
  Aggregator aggregator(o, &sequences, sink);

  std::map<Key, std::vector<std::int64_t>> expected;
  std::int64_t now = 1'763'890'000'000;
  std::uint64_t events = 0;
  for (int i = 0; i < 20000; ++i) {
    now += static_cast<std::int64_t>(rng() % 40);
    // Now and then a late event, up to 2 s old.
    const std::int64_t ts = (rng() % 50 == 0) ? now - static_cast<std::int64_t>(rng() % 2000) : now;
    AccessEvent e = event_at(ts, accounts[rng() % accounts.size()], ips[rng() % ips.size()].c_str());
    e.principal = principals[rng() % principals.size()];
    e.access_class = static_cast<AccessClass>(rng() % 2);
    e.ip_source = static_cast<IpSource>(rng() % 5);
    aggregator.on_access(e);
    ++events;
    expected[{std::string(e.account), std::string(e.principal), e.client_ip.to_string(),
              static_cast<int>(e.access_class), static_cast<int>(e.ip_source)}]
        .push_back(ts);
    if (rng() % 100 == 0) aggregator.flush_due(now);
  }
  aggregator.flush_all();
  EXPECT_EQ(aggregator.open_records(), 0u);

  std::map<Key, std::vector<std::int64_t>> actual;
  std::uint64_t previous_sequence = 0;
  std::uint64_t accesses = 0;
  for (const RecordBatch& batch : sink.batches) {
    EXPECT_GT(batch.sequence, previous_sequence);
    previous_sequence = batch.sequence;
    EXPECT_EQ(batch.agent_id, "agent-1");
    EXPECT_LE(batch.records.size(), 7u);
    std::set<Key> keys_in_batch;
    for (const AttributionRecord& r : batch.records) {
      EXPECT_TRUE(keys_in_batch.insert(key_of(r)).second) << "a key appears twice in one batch";
      EXPECT_TRUE(std::is_sorted(r.access_times_ms.begin(), r.access_times_ms.end()));
      EXPECT_FALSE(r.access_times_ms.empty());
      EXPECT_EQ(r.gateway, "gw-1");
      auto& times = actual[key_of(r)];
      times.insert(times.end(), r.access_times_ms.begin(), r.access_times_ms.end());
      accesses += r.access_times_ms.size();
    }
    std::vector<std::uint8_t> frame;
    EXPECT_TRUE(wire::encode_batch(batch, frame)) << "batch " << batch.sequence << " would not ship";
  }
  for (auto& [key, times] : expected) std::sort(times.begin(), times.end());
  for (auto& [key, times] : actual) std::sort(times.begin(), times.end());
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(accesses, events);

  MapStats stats;
  aggregator.report(stats);
  EXPECT_EQ(stats.values["aggregate.events"], events);
  EXPECT_EQ(stats.values["aggregate.accesses"], events);
  EXPECT_EQ(stats.values["aggregate.records"], total_records(sink.batches));
  EXPECT_EQ(stats.values["aggregate.batches"], sink.batches.size());
  EXPECT_GT(stats.values["aggregate.early_flushes"], 0u);
  EXPECT_GT(stats.values["aggregate.late_events"], 0u);
}

TEST(AggregatorTest, WindowsFollowEventTimeAlignedToTheWindowLength) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  aggregator.on_access(event_at(10'500, "a"));
  aggregator.on_access(event_at(10'999, "a"));
  EXPECT_TRUE(sink.batches.empty());
  aggregator.on_access(event_at(11'000, "a"));  // next window: the first one closes
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0].records.at(0).access_times_ms, (std::vector<std::int64_t>{10'500, 10'999}));
  EXPECT_EQ(sink.batches[0].sequence, 0u) << "without a counter the spool numbers batches";

  aggregator.flush_due(11'999);
  EXPECT_EQ(sink.batches.size(), 1u);
  aggregator.flush_due(12'000);
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[1].records.at(0).access_times_ms, (std::vector<std::int64_t>{11'000}));
  aggregator.flush_due(50'000);
  aggregator.flush_all();
  EXPECT_EQ(sink.batches.size(), 2u) << "empty windows produce no batch";
}

TEST(AggregatorTest, SameMillisecondAccessesAreEachKept) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  for (int i = 0; i < 3; ++i) aggregator.on_access(event_at(5'000, "a"));
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0].records.at(0).access_times_ms, (std::vector<std::int64_t>{5'000, 5'000, 5'000}));
}

TEST(AggregatorTest, EarlyFlushAtTheRecordBoundKeepsTheWindow) {
  CollectingSink sink;
  CountingSequences sequences;
  AggregatorOptions o = options();
  o.max_records_per_window = 3;
  Aggregator aggregator(o, &sequences, sink);
  aggregator.on_access(event_at(1'000, "a"));
  aggregator.on_access(event_at(1'001, "b"));
  aggregator.on_access(event_at(1'002, "c"));
  aggregator.on_access(event_at(1'003, "a"));  // existing record: no flush
  EXPECT_TRUE(sink.batches.empty());
  aggregator.on_access(event_at(1'004, "d"));  // a 4th record: flush the 3 first
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0].records.size(), 3u);
  EXPECT_EQ(sink.batches[0].records[0].access_times_ms.size(), 2u);
  EXPECT_EQ(aggregator.open_records(), 1u);
  aggregator.flush_due(1'999);
  EXPECT_EQ(sink.batches.size(), 1u) << "the early flush must not move the window";
  aggregator.flush_due(2'000);
  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[0].sequence, 1u);
  EXPECT_EQ(sink.batches[1].sequence, 2u);
  MapStats stats;
  aggregator.report(stats);
  EXPECT_EQ(stats.values["aggregate.early_flushes"], 1u);
}

TEST(AggregatorTest, WireLimitsOnAccessesForceEarlyFlushes) {
  CollectingSink sink;
  AggregatorOptions o = options();
  o.limits.max_accesses_per_record = 5;
  o.limits.max_accesses_per_batch = 8;
  Aggregator aggregator(o, nullptr, sink);
  for (int i = 0; i < 12; ++i) aggregator.on_access(event_at(1'000 + i, "a"));
  aggregator.flush_all();
  std::vector<std::size_t> sizes;
  for (const auto& b : sink.batches) {
    std::size_t n = 0;
    for (const auto& r : b.records) {
      EXPECT_LE(r.access_times_ms.size(), 5u);
      n += r.access_times_ms.size();
    }
    EXPECT_LE(n, 8u);
    sizes.push_back(n);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 5, 2}));
}

TEST(AggregatorTest, EventsWithoutAccountAreCountedAndDroppedByDefault) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  aggregator.on_access(event_at(1'000, ""));
  AccessEvent flagged_but_empty = event_at(1'000, "");
  flagged_but_empty.has_account = true;
  aggregator.on_access(flagged_but_empty);
  aggregator.flush_all();
  EXPECT_TRUE(sink.batches.empty());
  MapStats stats;
  aggregator.report(stats);
  EXPECT_EQ(stats.values["aggregate.no_account"], 2u);
  EXPECT_EQ(stats.values["aggregate.events"], 2u);
}

TEST(AggregatorTest, UnattributedShippedUnderTheReservedAccount) {
  CollectingSink sink;
  AggregatorOptions o = options();
  o.ship_unattributed = true;
  Aggregator aggregator(o, nullptr, sink);
  aggregator.on_access(event_at(1'000, ""));
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0].records.at(0).account, kUnattributedAccount);
  std::vector<std::uint8_t> frame;
  sink.batches[0].sequence = 1;
  EXPECT_TRUE(wire::encode_batch(sink.batches[0], frame));
}

TEST(AggregatorTest, PrincipalIpSourceAndClassSeparateRecords) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  AccessEvent e = event_at(1'000, "a");
  aggregator.on_access(e);
  e.principal = "alice";
  aggregator.on_access(e);
  e.ip_source = IpSource::kXForwardedFor;
  aggregator.on_access(e);
  e.access_class = AccessClass::kAdmin;
  aggregator.on_access(e);
  aggregator.on_access(e);
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  ASSERT_EQ(sink.batches[0].records.size(), 4u);
  EXPECT_EQ(sink.batches[0].records[3].principal, "alice");
  EXPECT_EQ(sink.batches[0].records[3].ip_source, RecordIpSource::kXForwardedFor);
  EXPECT_EQ(sink.batches[0].records[3].access_class, RecordClass::kAdmin);
  EXPECT_EQ(sink.batches[0].records[3].access_times_ms.size(), 2u);
}

TEST(AggregatorTest, RecordCarriesGeoAtFirstSightInTheWindow) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  AccessEvent e = event_at(1'000, "a");
  e.geo.country.code[0] = 'D';
  e.geo.country.code[1] = 'E';
  e.geo.asn = 3320;
  e.geo.as_org = "DTAG";
  e.geo.anonymizer_flags = kTorExitNode;
  e.geo.db_build_epoch = 1'700'000'000;
  aggregator.on_access(e);
  e.geo.country.code[0] = 'F';
  e.geo.country.code[1] = 'R';
  e.geo.asn = 1;
  aggregator.on_access(e);
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  const RecordGeo& geo = sink.batches[0].records.at(0).geo;
  EXPECT_EQ(geo.country, "DE");
  EXPECT_EQ(geo.registered_country, "");
  EXPECT_EQ(geo.asn, 3320u);
  EXPECT_EQ(geo.as_org, "DTAG");
  EXPECT_EQ(geo.anonymizer_flags, kTorExitNode);
  EXPECT_EQ(geo.db_build_epoch, 1'700'000'000);
  EXPECT_EQ(sink.batches[0].records[0].access_times_ms.size(), 2u);
}

TEST(AggregatorTest, OversizeAccountDroppedAndLongAsOrgCutAtUtf8Boundary) {
  CollectingSink sink;
  AggregatorOptions o = options();
  o.limits.max_string_bytes = 8;
  Aggregator aggregator(o, nullptr, sink);
  aggregator.on_access(event_at(1'000, "account-too-long"));
  AccessEvent e = event_at(1'000, "short");
  e.geo.as_org = "abcdefg\xC3\xA9xyz";  // the 2-byte é straddles the 8-byte limit
  aggregator.on_access(e);
  AccessEvent no_ip = event_at(1'000, "short");
  no_ip.client_ip = IpAddress();
  aggregator.on_access(no_ip);
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  ASSERT_EQ(sink.batches[0].records.size(), 1u);
  EXPECT_EQ(sink.batches[0].records[0].geo.as_org, "abcdefg");
  MapStats stats;
  aggregator.report(stats);
  EXPECT_EQ(stats.values["aggregate.oversize_field"], 1u);
  EXPECT_EQ(stats.values["aggregate.no_client_ip"], 1u);
}

TEST(AggregatorTest, NegativeTimesFloorToMilliseconds) {
  CollectingSink sink;
  Aggregator aggregator(options(), nullptr, sink);
  AccessEvent e = event_at(0, "a");
  e.ts_us = -1;  // before the epoch: belongs to millisecond -1
  aggregator.on_access(e);
  aggregator.flush_all();
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0].records[0].access_times_ms, (std::vector<std::int64_t>{-1}));
}

}  // namespace
}  // namespace ipattrib::agent
