#include "agent/pipeline/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/pipeline/flow_hash.h"
#include "ipattrib/stats_line.h"
#include "tests/unit/agent/pipeline/raw_tcp_frame.h"

namespace ipattrib::agent {
namespace {

class CollectingSink final : public PoolOutputSink {
 public:
  void on_event_line(const std::string& json) override { lines.push_back(json); }
  void on_batch(RecordBatch&& batch) override { batches.push_back(std::move(batch)); }
  std::vector<std::string> lines;
  std::vector<RecordBatch> batches;
};

// One request per connection: SYN, then the request head, from 10.9.9.9
// (one client address: only the ports tell the connections apart).
struct Traffic {
  std::vector<std::vector<std::uint8_t>> bytes;
  std::vector<RawFrame> frames;

  explicit Traffic(int connections) {
    const IpAddress client = IpAddress::parse("10.9.9.9").value();
    const IpAddress server = IpAddress::parse("10.0.0.2").value();
    for (int c = 0; c < connections; ++c) {
      const auto port = static_cast<std::uint16_t>(30000 + c);
      const std::string head = "GET /item/" + std::to_string(c) + " HTTP/1.1\r\nHost: api.example\r\n\r\n";
      bytes.push_back(testing::raw_tcp_frame(client, port, server, 80, 100, 0x02));            // SYN
      bytes.push_back(testing::raw_tcp_frame(server, 80, client, port, 900, 0x12));            // SYN-ACK
      bytes.push_back(testing::raw_tcp_frame(client, port, server, 80, 101, 0x18, head));     // PSH-ACK
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      RawFrame frame;
      frame.ts_us = 1'700'000'000'000'000 + static_cast<std::int64_t>(i) * 10;
      frame.data = bytes[i];
      frame.wire_length = static_cast<std::uint32_t>(bytes[i].size());
      frames.push_back(frame);
    }
  }
};

AgentConfig two_workers(int queue_mb = 1) {
  AgentConfig config = default_agent_config();
  config.pipeline.workers = 2;
  config.pipeline.queue_mb = queue_mb;
  return config;
}

TEST(WorkerPoolTest, EveryRequestOfEveryConnectionComesOutOnce) {
  const AgentConfig config = two_workers();
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  WorkerOutputs outputs;
  outputs.event_lines = true;
  WorkerPool pool(config, geo, LinkType::kRawIp, outputs, /*wait_when_full=*/true, sink);
  EXPECT_TRUE(pool.start().empty());
  const Traffic traffic(400);
  for (std::size_t i = 0; i < traffic.frames.size(); i += 64) {
    pool.dispatch(std::span(traffic.frames).subspan(i, std::min<std::size_t>(64, traffic.frames.size() - i)));
  }
  pool.finish();

  std::set<std::string> targets;
  for (const std::string& line : sink.lines) {
    const std::size_t at = line.find("\"target\":\"/item/");
    ASSERT_NE(at, std::string::npos) << line;
    targets.insert(line.substr(at, line.find('"', at + 10) - at));
  }
  EXPECT_EQ(sink.lines.size(), 400u);
  EXPECT_EQ(targets.size(), 400u) << "each request exactly once";

  StatsLine stats;
  pool.report(stats);
  EXPECT_EQ(stats.value("pipeline.frames_dispatched"), traffic.frames.size());
  EXPECT_EQ(stats.value("pipeline.queue_full_drops"), 0u);
  EXPECT_EQ(stats.value("decode.frames"), traffic.frames.size()) << "summed over both workers";
  EXPECT_GT(stats.value("pipeline.worker0.frames"), 0u);
  EXPECT_GT(stats.value("pipeline.worker1.frames"), 0u);
  EXPECT_EQ(stats.value("pipeline.worker0.frames") + stats.value("pipeline.worker1.frames"), traffic.frames.size());
}

TEST(WorkerPoolTest, EachWorkerAggregatesItsOwnFlowsAndTogetherTheyShipEveryAccess) {
  const AgentConfig config = two_workers();
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  WorkerOutputs outputs;
  AggregatorOptions aggregation;
  aggregation.agent_id = "agent-1";
  aggregation.gateway = "gw";
  aggregation.ship_unattributed = true;  // the test traffic names no account
  outputs.aggregation = aggregation;
  WorkerPool pool(config, geo, LinkType::kRawIp, outputs, /*wait_when_full=*/true, sink);
  EXPECT_TRUE(pool.start().empty());
  const Traffic traffic(300);
  pool.dispatch(traffic.frames);
  pool.finish();

  std::size_t accesses = 0;
  for (const RecordBatch& batch : sink.batches) {
    EXPECT_EQ(batch.sequence, 0u) << "the spool numbers batches, not the workers";
    for (const AttributionRecord& record : batch.records) accesses += record.access_times_ms.size();
  }
  EXPECT_EQ(accesses, 300u);
  EXPECT_GE(sink.batches.size(), 2u) << "both workers flushed their own windows";
  StatsLine stats;
  pool.report(stats);
  EXPECT_EQ(stats.value("aggregate.events"), 300u) << "summed over both workers";
  EXPECT_EQ(stats.value("aggregate.accesses"), 300u);
}

TEST(WorkerPoolTest, LiveCaptureCountsFramesItCannotQueueAndNeverBlocks) {
  // Workers not started yet: nothing drains the rings, so once both are full
  // every further frame must be dropped and counted, not waited for.
  const AgentConfig config = two_workers(/*queue_mb=*/1);
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  WorkerPool pool(config, geo, LinkType::kRawIp, WorkerOutputs{}, /*wait_when_full=*/false, sink);
  const Traffic traffic(20000);  // 60000 frames, ~5.7 MB in ring records: more than two 1 MiB rings hold
  pool.dispatch(traffic.frames);
  StatsLine before;
  pool.report(before);
  const std::uint64_t dispatched = before.value("pipeline.frames_dispatched");
  const std::uint64_t dropped = before.value("pipeline.queue_full_drops");
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(dispatched + dropped, traffic.frames.size()) << "every frame is either queued or counted";
  EXPECT_EQ(before.value("pipeline.worker0.queue_full_drops") + before.value("pipeline.worker1.queue_full_drops"),
            dropped);

  EXPECT_TRUE(pool.start().empty());
  pool.finish();
  StatsLine after;
  pool.report(after);
  EXPECT_EQ(after.value("decode.frames"), dispatched) << "every queued frame reached a pipeline";
}

// One part of a capture split by flow, read by its worker: hands its frames
// in bursts of at most 7, then ends (a file) or times out until stopped (a
// live capture), or fails. report() runs on other threads meanwhile.
class PartSource final : public PacketSource {
 public:
  enum class AtEnd { kEnd, kWaitForStop, kFail };
  PartSource(std::vector<RawFrame> frames, AtEnd at_end) : frames_(std::move(frames)), at_end_(at_end) {}
  LinkType link_type() const override { return LinkType::kRawIp; }
  std::size_t read_burst(std::span<RawFrame> out, ReadStatus& status) override {
    const std::size_t n = std::min({out.size(), std::size_t{7}, frames_.size() - next_});
    std::copy_n(frames_.begin() + static_cast<std::ptrdiff_t>(next_), n, out.begin());
    next_ += n;
    delivered_.store(next_, std::memory_order_relaxed);
    if (n > 0) {
      status = ReadStatus::kFrames;
    } else if (stopped_.load() || at_end_ == AtEnd::kEnd) {
      status = ReadStatus::kEnd;
    } else if (at_end_ == AtEnd::kFail) {
      status = ReadStatus::kError;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      status = ReadStatus::kTimeout;
    }
    return n;
  }
  void break_loop() override { stopped_.store(true); }
  void report(StatsSink& sink) const override { sink.counter("capture.frames", delivered_.load(std::memory_order_relaxed)); }
  const std::string& error() const override { return error_; }

 private:
  std::vector<RawFrame> frames_;
  const AtEnd at_end_;
  std::size_t next_ = 0;
  std::atomic<std::size_t> delivered_{0};
  std::atomic<bool> stopped_{false};
  std::string error_ = "the device went away";
};

// Splits the traffic by the symmetric flow hash, as symmetric RSS would.
std::vector<std::unique_ptr<PacketSource>> split_traffic(const Traffic& traffic, std::size_t parts,
                                                         PartSource::AtEnd at_end, std::vector<std::size_t>& sizes) {
  std::vector<std::vector<RawFrame>> frames(parts);
  for (const RawFrame& frame : traffic.frames) {
    std::uint32_t hash = 0;
    EXPECT_TRUE(frame_flow_hash(LinkType::kRawIp, frame, hash));
    frames[worker_for_hash(hash, parts)].push_back(frame);
  }
  std::vector<std::unique_ptr<PacketSource>> sources;
  sizes.clear();
  for (auto& part : frames) {
    sizes.push_back(part.size());
    sources.push_back(std::make_unique<PartSource>(std::move(part), at_end));
  }
  return sources;
}

std::set<std::string> targets_once(const std::vector<std::string>& lines) {
  std::set<std::string> targets;
  for (const std::string& line : lines) {
    const std::size_t at = line.find("\"target\":\"/item/");
    EXPECT_NE(at, std::string::npos) << line;
    if (at != std::string::npos) targets.insert(line.substr(at, line.find('"', at + 10) - at));
  }
  return targets;
}

// The main thread's part when workers read their own sources: drain and
// report (as the stats line does) until every source has ended.
void serve_until_sources_end(WorkerPool& pool, std::string& error) {
  for (int i = 0; i < 100000 && !pool.sources_ended(error); ++i) {
    pool.drain_outputs();
    StatsLine live;
    pool.report(live);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

TEST(WorkerPoolTest, WorkersReadingTheirOwnSourcesFindEveryRequestOnceWithoutDispatch) {
  const AgentConfig config = two_workers();
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  WorkerOutputs outputs;
  outputs.event_lines = true;
  const Traffic traffic(400);
  std::vector<std::size_t> sizes;
  WorkerPool pool(config, geo, LinkType::kRawIp, outputs, /*wait_when_full=*/false, sink,
                  split_traffic(traffic, 2, PartSource::AtEnd::kEnd, sizes));
  ASSERT_TRUE(pool.workers_read_sources());
  ASSERT_GT(sizes[0], 0u);
  ASSERT_GT(sizes[1], 0u);
  EXPECT_TRUE(pool.start().empty());
  std::string error;
  serve_until_sources_end(pool, error);
  EXPECT_TRUE(pool.sources_ended(error));
  EXPECT_EQ(error, "");
  pool.finish();

  EXPECT_EQ(sink.lines.size(), 400u);
  EXPECT_EQ(targets_once(sink.lines).size(), 400u) << "each request exactly once";
  StatsLine stats;
  pool.report(stats);
  EXPECT_EQ(stats.value("capture.frames"), traffic.frames.size()) << "the parts' counters, summed";
  EXPECT_EQ(stats.value("pipeline.frames_dispatched"), 0u) << "nothing went through the rings";
  EXPECT_EQ(stats.value("pipeline.worker0.frames"), sizes[0]);
  EXPECT_EQ(stats.value("pipeline.worker1.frames"), sizes[1]);
  EXPECT_EQ(stats.value("decode.frames"), traffic.frames.size());
}

TEST(WorkerPoolTest, FinishStopsLiveSourcesAndHandsOverEverythingTheyRead) {
  const AgentConfig config = two_workers();
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  WorkerOutputs outputs;
  outputs.event_lines = true;
  const Traffic traffic(200);
  std::vector<std::size_t> sizes;
  WorkerPool pool(config, geo, LinkType::kRawIp, outputs, /*wait_when_full=*/false, sink,
                  split_traffic(traffic, 2, PartSource::AtEnd::kWaitForStop, sizes));
  EXPECT_TRUE(pool.start().empty());
  // Wait until both have read everything; a live source never ends by itself.
  for (int i = 0; i < 100000; ++i) {
    StatsLine live;
    pool.report(live);
    if (live.value("capture.frames") == traffic.frames.size()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  std::string error;
  EXPECT_FALSE(pool.sources_ended(error));
  pool.finish();  // as on SIGTERM: each worker stops its source
  EXPECT_EQ(targets_once(sink.lines).size(), 200u);
  EXPECT_EQ(sink.lines.size(), 200u);
}

TEST(WorkerPoolTest, AFailingWorkerSourceEndsTheRunWithItsError) {
  const AgentConfig config = two_workers();
  GeoResolver geo(config.geo);
  ASSERT_TRUE(geo.open());
  CollectingSink sink;
  const Traffic traffic(50);
  std::vector<std::size_t> sizes;
  WorkerPool pool(config, geo, LinkType::kRawIp, WorkerOutputs{}, /*wait_when_full=*/false, sink,
                  split_traffic(traffic, 2, PartSource::AtEnd::kFail, sizes));
  EXPECT_TRUE(pool.start().empty());
  std::string error;
  serve_until_sources_end(pool, error);
  EXPECT_EQ(error, "the device went away");
  pool.finish();
  StatsLine stats;
  pool.report(stats);
  EXPECT_EQ(stats.value("decode.frames"), traffic.frames.size()) << "what was read before the error was processed";
}

}  // namespace
}  // namespace ipattrib::agent
