// PipelineWorker: one worker thread of the multi-core packet path. It owns a
// FrameRing fed by the capture thread, its own PacketPipeline (flow table,
// parsers, attribution, geo cache) and, when shipping, its own Aggregator;
// nothing on its per-packet path is shared with another thread. What it
// produces — --events lines and record batches — goes back through its own
// OutputQueues, drained by the capture thread.
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
  PipelineWorker(std::size_t index, const AgentConfig& config, const GeoResolver& geo, LinkType link_type,
                 const WorkerOutputs& outputs);
  ~PipelineWorker();  // joins (after end_of_input()) if still running
  PipelineWorker(const PipelineWorker&) = delete;
  PipelineWorker& operator=(const PipelineWorker&) = delete;

  // Starts the thread, pinned to `cpu` unless it is negative. False (and the
  // reason in `error`) when pinning failed; the thread runs unpinned then.
  bool start(int cpu, std::string& error);

  // Capture thread: pushes frames and publishes them.
  FrameRing& ring() { return ring_; }
  // Capture thread: nothing more will be pushed; the worker empties its ring,
  // finishes its pipeline and aggregator, hands over the last outputs and stops.
  void end_of_input();
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  void join();

  // Capture thread: hands every queued output to the functions.
  template <class LineFn, class BatchFn>
  void drain(LineFn&& on_line, BatchFn&& on_batch) {
    lines_.drain(on_line);
    batches_.drain(on_batch);
  }

  // Any thread. Advances every loop turn, busy, idle or waiting for output room.
  std::uint64_t heartbeat() const { return heartbeat_.value.load(std::memory_order_relaxed); }
  std::uint64_t frames() const { return frames_.value.load(std::memory_order_relaxed); }
  // Any thread: the latest snapshot of the pipeline's and aggregator's counters.
  void report(StatsSink& sink) const;

 private:
  // Sinks inside the worker: events to JSON lines and/or the aggregator,
  // whose batches go to the batch queue.
  class EventFanOut;
  class BatchQueueSink;

  void run();
  void service(std::int64_t now_us);
  void publish_snapshot();
  void beat() { heartbeat_.value.store(heartbeat_.value.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  struct alignas(64) PaddedCounter {
    std::atomic<std::uint64_t> value{0};
  };

  const std::size_t index_;
  const LinkType link_type_;
  FrameRing ring_;
  OutputQueue<std::string> lines_;
  OutputQueue<RecordBatch> batches_;
  std::unique_ptr<BatchQueueSink> batch_sink_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<EventFanOut> events_;
  PacketPipeline pipeline_;

  std::atomic<bool> input_ended_{false};
  std::atomic<bool> finished_{false};
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
