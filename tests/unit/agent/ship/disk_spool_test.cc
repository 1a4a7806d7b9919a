#include "agent/ship/disk_spool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "agent/ship/spool_record.h"
#include "ipattrib/wire/batch_codec.h"
#include "ipattrib/wire/frame.h"

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;

struct MapStats : StatsSink {
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

class DiskSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ipattrib-spool-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    options_.dir = root_ + "/spool";  // not there yet: open creates it
    options_.max_bytes = 1 << 20;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<DiskSpool> open_spool() {
    std::unique_ptr<DiskSpool> spool;
    Status s = DiskSpool::open(options_, spool);
    EXPECT_TRUE(s) << s.message();
    return spool;
  }

  static std::vector<std::uint8_t> frame_of(std::uint64_t sequence, std::size_t size = 100) {
    std::vector<std::uint8_t> frame(size);
    for (std::size_t i = 0; i < size; ++i) frame[i] = static_cast<std::uint8_t>(sequence * 31 + i);
    return frame;
  }

  std::string batch_path(std::uint64_t sequence) const {
    char name[64];
    std::snprintf(name, sizeof(name), "batch-%020llu.spool", static_cast<unsigned long long>(sequence));
    return options_.dir + "/" + name;
  }

  std::map<std::string, std::uint64_t> stats(const DiskSpool& spool) {
    MapStats s;
    spool.report(s);
    return s.values;
  }

  std::string root_;
  SpoolOptions options_;
};

TEST_F(DiskSpoolTest, AppendReadPop) {
  auto spool = open_spool();
  ASSERT_TRUE(spool);
  EXPECT_TRUE(spool->empty());
  EXPECT_EQ(spool->front_sequence(), std::nullopt);
  EXPECT_EQ(spool->back_sequence(), std::nullopt);
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_EQ(spool->next_sequence(), seq);
    ASSERT_TRUE(spool->append(seq, frame_of(seq), seq * 10));
  }
  EXPECT_EQ(spool->batch_count(), 3u);
  EXPECT_EQ(spool->front_sequence(), 1u);
  EXPECT_EQ(spool->back_sequence(), 3u);
  EXPECT_EQ(spool->bytes(), 3 * (kSpoolHeaderBytes + 100));
  SpooledBatch batch;
  ASSERT_TRUE(spool->front(batch));
  EXPECT_EQ(batch.sequence, 1u);
  EXPECT_EQ(batch.access_count, 10u);
  EXPECT_EQ(batch.frame, frame_of(1));
  ASSERT_TRUE(spool->read(3, batch));
  EXPECT_EQ(batch.frame, frame_of(3));
  EXPECT_FALSE(spool->read(4, batch));

  ASSERT_TRUE(spool->pop_through(2));
  EXPECT_EQ(spool->front_sequence(), 3u);
  EXPECT_FALSE(fs::exists(batch_path(1)));
  EXPECT_FALSE(fs::exists(batch_path(2)));
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{3}));
  ASSERT_TRUE(spool->pop_through(2));  // a repeated ack changes nothing
  EXPECT_EQ(spool->batch_count(), 1u);
  auto counters = stats(*spool);
  EXPECT_EQ(counters["spool.appended"], 3u);
  EXPECT_EQ(counters["spool.acked"], 2u);
  EXPECT_EQ(counters["spool.batches"], 1u);
  EXPECT_EQ(counters["spool.bytes"], kSpoolHeaderBytes + 100);
}

TEST_F(DiskSpoolTest, SequencesMustIncrease) {
  auto spool = open_spool();
  ASSERT_TRUE(spool->append(5, frame_of(5), 1));
  EXPECT_FALSE(spool->append(5, frame_of(5), 1));
  EXPECT_FALSE(spool->append(4, frame_of(4), 1));
  EXPECT_FALSE(spool->append(0, frame_of(0), 1));
  EXPECT_EQ(spool->next_sequence(), 6u);
  EXPECT_EQ(spool->batch_count(), 1u);
}

TEST_F(DiskSpoolTest, RestartKeepsUnackedBatchesInOrder) {
  {
    auto spool = open_spool();
    for (std::uint64_t seq = 1; seq <= 6; ++seq) ASSERT_TRUE(spool->append(seq, frame_of(seq, 50 + seq), seq));
    ASSERT_TRUE(spool->pop_through(2));
  }
  auto spool = open_spool();
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(spool->sequences_after(4), (std::vector<std::uint64_t>{5, 6}));
  for (std::uint64_t seq = 3; seq <= 6; ++seq) {
    SpooledBatch batch;
    ASSERT_TRUE(spool->read(seq, batch));
    EXPECT_EQ(batch.frame, frame_of(seq, 50 + seq));
    EXPECT_EQ(batch.access_count, seq);
  }
  EXPECT_EQ(spool->next_sequence(), 7u);
}

TEST_F(DiskSpoolTest, SequencesStayMonotonicAcrossRestartsWhenEmpty) {
  {
    auto spool = open_spool();
    for (int i = 0; i < 4; ++i) {
      const std::uint64_t seq = spool->next_sequence();
      ASSERT_TRUE(spool->append(seq, frame_of(seq), 1));
    }
    ASSERT_TRUE(spool->pop_through(4));
    EXPECT_TRUE(spool->empty());
  }
  {
    auto spool = open_spool();
    EXPECT_TRUE(spool->empty());
    EXPECT_EQ(spool->highest_sequence(), 4u);
    EXPECT_EQ(spool->next_sequence(), 5u);
    EXPECT_FALSE(spool->append(3, frame_of(3), 1));
    ASSERT_TRUE(spool->raise_sequence_floor(100));  // the collector has seen up to 100
  }
  auto spool = open_spool();
  EXPECT_EQ(spool->next_sequence(), 101u);
}

TEST_F(DiskSpoolTest, AppendBatchNumbersEncodesAndDecodes) {
  auto spool = open_spool();
  RecordBatch batch;
  batch.agent_id = "agent-1";
  AttributionRecord record;
  record.account = "acct-42";
  record.client_ip = *IpAddress::parse("192.0.2.10");
  record.gateway = "gw-1";
  record.access_times_ms = {1'763'890'000'000, 1'763'890'000'000, 1'763'890'000'250};
  batch.records.push_back(record);
  ASSERT_TRUE(spool->append_batch(batch));
  EXPECT_EQ(batch.sequence, 1u);
  RecordBatch second = batch;
  second.sequence = 0;
  ASSERT_TRUE(spool->append_batch(second));
  EXPECT_EQ(second.sequence, 2u);

  SpooledBatch spooled;
  ASSERT_TRUE(spool->read(1, spooled));
  EXPECT_EQ(spooled.access_count, 3u);
  ASSERT_GT(spooled.frame.size(), wire::kFrameHeaderBytes);
  RecordBatch decoded;
  ASSERT_TRUE(wire::decode_batch(std::span(spooled.frame).subspan(wire::kFrameHeaderBytes), decoded));
  EXPECT_EQ(decoded, batch);

  RecordBatch unencodable = batch;
  unencodable.sequence = 0;
  unencodable.records[0].account.clear();
  EXPECT_FALSE(spool->append_batch(unencodable));
  EXPECT_EQ(spool->batch_count(), 2u);
}

TEST_F(DiskSpoolTest, TornTailIsDroppedAndCountedEarlierIntact) {
  {
    auto spool = open_spool();
    for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(spool->append(seq, frame_of(seq), 7));
  }
  fs::resize_file(batch_path(3), kSpoolHeaderBytes + 40);  // mid-frame
  auto spool = open_spool();
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{1, 2}));
  SpooledBatch batch;
  ASSERT_TRUE(spool->read(2, batch));
  EXPECT_EQ(batch.frame, frame_of(2));
  EXPECT_FALSE(fs::exists(batch_path(3)));
  auto counters = stats(*spool);
  EXPECT_EQ(counters["spool.torn_records"], 1u);
  EXPECT_EQ(counters["spool.corrupt_records"], 0u);
  // The torn batch's sequence is not reused, even after another restart: it
  // might have reached the collector, which would ignore a new batch 3.
  spool.reset();
  spool = open_spool();
  EXPECT_EQ(spool->next_sequence(), 4u);
}

TEST_F(DiskSpoolTest, TruncatedHeaderAndLeftoverTempFileAreTorn) {
  {
    auto spool = open_spool();
    ASSERT_TRUE(spool->append(1, frame_of(1), 1));
    ASSERT_TRUE(spool->append(2, frame_of(2), 1));
  }
  fs::resize_file(batch_path(2), 10);
  std::ofstream(options_.dir + "/tmp-" + fs::path(batch_path(3)).filename().string()) << "partial";
  auto spool = open_spool();
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(stats(*spool)["spool.torn_records"], 2u);
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(options_.dir)) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"lock", "sequence", fs::path(batch_path(1)).filename().string()}));
  EXPECT_EQ(spool->next_sequence(), 3u);
}

TEST_F(DiskSpoolTest, CorruptedCrcIsDroppedAndCounted) {
  {
    auto spool = open_spool();
    for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(spool->append(seq, frame_of(seq), 7));
  }
  {
    std::fstream f(batch_path(2), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kSpoolHeaderBytes + 10);
    f.put(static_cast<char>(0xFF ^ frame_of(2)[10]));
  }
  auto spool = open_spool();
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(stats(*spool)["spool.corrupt_records"], 1u);
  EXPECT_EQ(spool->next_sequence(), 4u);
}

TEST_F(DiskSpoolTest, DamageAfterOpenIsReportedByRead) {
  auto spool = open_spool();
  ASSERT_TRUE(spool->append(1, frame_of(1), 4));
  fs::resize_file(batch_path(1), 50);
  SpooledBatch batch;
  EXPECT_FALSE(spool->front(batch));
  ASSERT_TRUE(spool->drop_front("does not read back"));
  EXPECT_TRUE(spool->empty());
  auto counters = stats(*spool);
  EXPECT_EQ(counters["spool.dropped_batches"], 1u);
  EXPECT_EQ(counters["spool.dropped_accesses"], 4u);
}

TEST_F(DiskSpoolTest, FullSpoolDropsOldestWithExactCounts) {
  const std::uint64_t file_bytes = kSpoolHeaderBytes + 100;
  options_.max_bytes = 5 * file_bytes;
  auto spool = open_spool();
  for (std::uint64_t seq = 1; seq <= 5; ++seq) ASSERT_TRUE(spool->append(seq, frame_of(seq), seq * 100));
  EXPECT_EQ(stats(*spool)["spool.dropped_batches"], 0u);
  ASSERT_TRUE(spool->append(6, frame_of(6), 1));  // drops 1
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{2, 3, 4, 5, 6}));
  ASSERT_TRUE(spool->append(7, frame_of(7, 2 * 100 + kSpoolHeaderBytes), 1));  // needs two slots: drops 2, 3
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{4, 5, 6, 7}));
  EXPECT_LE(spool->bytes(), options_.max_bytes);
  auto counters = stats(*spool);
  EXPECT_EQ(counters["spool.dropped_batches"], 3u);
  EXPECT_EQ(counters["spool.dropped_accesses"], 100u + 200u + 300u);
  EXPECT_FALSE(fs::exists(batch_path(1)));
  EXPECT_FALSE(fs::exists(batch_path(3)));
}

TEST_F(DiskSpoolTest, BatchBiggerThanTheSpoolIsStillKeptAlone) {
  options_.max_bytes = 64;
  auto spool = open_spool();
  ASSERT_TRUE(spool->append(1, frame_of(1), 3));
  ASSERT_TRUE(spool->append(2, frame_of(2), 5));
  EXPECT_EQ(spool->sequences_after(0), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(stats(*spool)["spool.dropped_accesses"], 3u);
}

TEST_F(DiskSpoolTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto spool = open_spool();
  std::unique_ptr<DiskSpool> second;
  Status s = DiskSpool::open(options_, second);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
}

TEST_F(DiskSpoolTest, UnwritableDirectoryFailsToOpen) {
  std::ofstream(root_ + "/file") << "x";
  options_.dir = root_ + "/file/spool";
  std::unique_ptr<DiskSpool> spool;
  EXPECT_FALSE(DiskSpool::open(options_, spool));
  EXPECT_EQ(spool, nullptr);
}

// A child appends batches and reports each sequence once append() returned;
// it is killed with SIGKILL mid-stream. Every reported batch must be found
// intact, none corrupt, and nothing beyond what was appended.
TEST_F(DiskSpoolTest, SigkillMidStreamLosesNoAcknowledgedAppend) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    std::unique_ptr<DiskSpool> spool;
    if (!DiskSpool::open(options_, spool)) ::_exit(2);
    for (std::uint64_t seq = 1;; ++seq) {
      if (!spool->append(seq, frame_of(seq, 1000 + seq % 500), seq)) ::_exit(3);
      if (::write(fds[1], &seq, sizeof(seq)) != sizeof(seq)) ::_exit(4);
    }
  }
  ::close(fds[1]);
  std::set<std::uint64_t> appended;
  std::uint64_t seq = 0;
  while (appended.size() < 30 && ::read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) appended.insert(seq);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
  while (::read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) appended.insert(seq);
  ::close(fds[0]);
  ASSERT_GE(appended.size(), 30u);

  auto spool = open_spool();
  ASSERT_TRUE(spool);
  const std::vector<std::uint64_t> held = spool->sequences_after(0);
  for (std::uint64_t s : appended) {
    SpooledBatch batch;
    ASSERT_TRUE(spool->read(s, batch)) << "batch " << s << " was appended but is gone";
    EXPECT_EQ(batch.frame, frame_of(s, 1000 + s % 500));
    EXPECT_EQ(batch.access_count, s);
  }
  // At most one more batch: the one whose append was under way.
  EXPECT_LE(held.size(), appended.size() + 1);
  for (std::size_t i = 0; i < held.size(); ++i) EXPECT_EQ(held[i], i + 1);
  EXPECT_EQ(stats(*spool)["spool.corrupt_records"], 0u);
  EXPECT_GT(spool->next_sequence(), *appended.rbegin());
}

}  // namespace
}  // namespace ipattrib::agent
