// PipelineWorker: one worker thread of the multi-core packet path. Its frames
// come either from a FrameRing fed by the capture thread (software dispatch)
// or straight from its own PacketSource (a part of the capture split by flow,
// e.g. its DPDK RX queue: zero-copy, no capture thread in between). It owns
// its PacketPipeline (flow table, parsers, attribution, geo cache) and, when
// shipping, its own Aggregator; nothing on its per-packet path is shared with
// another thread. What it produces — --events lines and record batches — goes
// back through its own OutputQueues, drained by the main thread.
//
// Counters: the frames it handled and a heartbeat are atomics only it writes
// (relaxed), each on its own cache line; the pipeline's and aggregator's
// counters are plain fields, so the worker copies them into a snapshot a few
// times a second (under a mutex nobody takes per packet) and report() reads
// that snapshot. After join() the snapshot is exact.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/capture/packet_source.h"
#include "agent/config/agent_config.h"
#include "agent/pipeline/frame_ring.h"
#include "agent/pipeline/output_queue.h"
#include "agent/pipeline/packet_pipeline.h"
#include "agent/ship/aggregator.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/stats_line.h"

namespace ipattrib::agent {

// What each worker produces besides counters.
struct WorkerOutputs {
  bool event_lines = false;                    // --events: JSON lines
  std::optional<AggregatorOptions> aggregation;  // shipping: per-window record batches
};

class PipelineWorker {
 public:
  // source: the worker reads it itself (null: frames come through ring()).
  PipelineWorker(std::size_t index, const AgentConfig& config, const GeoResolver& geo, LinkType link_type,
                 const WorkerOutputs& outputs, std::unique_ptr<PacketSource> source = nullptr);
  ~PipelineWorker();  // joins (after end_of_input()) if still running
  PipelineWorker(const PipelineWorker&) = delete;
  PipelineWorker& operator=(const PipelineWorker&) = delete;

  // Starts the thread, pinned to `cpu` unless it is negative. False (and the
  // reason in `error`) when pinning failed; the thread runs unpinned then.
  bool start(int cpu, std::string& error);

  // Capture thread: pushes frames and publishes them (software dispatch).
  FrameRing& ring() { return ring_; }
  bool reads_own_source() const { return source_ != nullptr; }
  // Main thread: nothing more will be pushed (or, reading its own source, the
  // source is stopped); the worker empties its ring, finishes its pipeline and
  // aggregator, hands over the last outputs and stops.
  void end_of_input();
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Reading its own source: the source ended (end of file, error) by itself.
  bool source_ended() const { return source_ended_.load(std::memory_order_acquire); }
  // After source_ended(): the source's error, empty at a normal end.
  const std::string& source_error() const { return source_error_; }
  void join();

  // Main thread: hands every queued output to the functions; returns how many.
  template <class LineFn, class BatchFn>
  std::size_t drain(LineFn&& on_line, BatchFn&& on_batch) {
    return lines_.drain(on_line) + batches_.drain(on_batch);
  }

  // Any thread. Advances every loop turn, busy, idle or waiting for output room.
  std::uint64_t heartbeat() const { return heartbeat_.value.load(std::memory_order_relaxed); }
  std::uint64_t frames() const { return frames_.value.load(std::memory_order_relaxed); }
  // Any thread: the latest snapshot of the pipeline's and aggregator's counters.
  void report(StatsSink& sink) const;
  // Any thread: the own source's counters (capture.*); nothing without one.
  void report_source(StatsSink& sink) const;

 private:
  // Sinks inside the worker: events to JSON lines and/or the aggregator,
  // whose batches go to the batch queue.
  class EventFanOut;
  class BatchQueueSink;

  void run();
  void run_on_ring();
  void run_on_source();
  void service(std::int64_t now_us);
  void publish_snapshot();
  void beat() { heartbeat_.value.store(heartbeat_.value.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  struct alignas(64) PaddedCounter {
    std::atomic<std::uint64_t> value{0};
  };

  const std::size_t index_;
  const LinkType link_type_;
  const std::size_t burst_;
  std::unique_ptr<PacketSource> source_;
  FrameRing ring_;
  OutputQueue<std::string> lines_;
  OutputQueue<RecordBatch> batches_;
  std::unique_ptr<BatchQueueSink> batch_sink_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<EventFanOut> events_;
  PacketPipeline pipeline_;

  std::atomic<bool> input_ended_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> source_ended_{false};
  std::string source_error_;  // written before source_ended_ is set
  PaddedCounter heartbeat_;
  PaddedCounter frames_;
  std::atomic<std::uint64_t> output_waits_{0};

  std::int64_t next_service_us_ = 0;
  std::int64_t next_snapshot_us_ = 0;
  mutable std::mutex snapshot_mutex_;
  StatsLine snapshot_;  // guarded by snapshot_mutex_
  std::thread thread_;
};

}  // namespace ipattrib::agent
