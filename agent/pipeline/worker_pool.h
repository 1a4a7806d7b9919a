// WorkerPool: the capture side of the multi-core packet path, in one of two
// modes. Software dispatch: dispatch() hashes each frame of a burst
// symmetrically onto a worker, copies it into that worker's FrameRing and
// publishes each ring once per burst. When a ring is full a live capture drops
// the frame and counts it (the capture must never stall on a slow worker); an
// offline replay waits instead, so a file is always processed completely.
// Per-worker sources: built with the parts of a source split by flow (a DPDK
// port's RX queues), each worker reads its own part and nothing is dispatched.
// Either way the pool drains the workers' outputs into a PoolOutputSink on the
// calling (main) thread, sums the workers' counters for the stats line, and
// tells whether every worker is still turning (for the systemd watchdog).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/pipeline/pipeline_worker.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

// Where the workers' outputs end up, called on the capture thread only.
class PoolOutputSink {
 public:
  virtual ~PoolOutputSink() = default;
  virtual void on_event_line(const std::string& json) = 0;
  virtual void on_batch(RecordBatch&& batch) = 0;
};

class WorkerPool {
 public:
  // wait_when_full: offline replay (wait for ring room instead of dropping).
  // sources: empty for software dispatch, else one per worker (config's
  // worker count), each read by its worker.
  WorkerPool(const AgentConfig& config, const GeoResolver& geo, LinkType link_type, const WorkerOutputs& outputs,
             bool wait_when_full, PoolOutputSink& sink,
             std::vector<std::unique_ptr<PacketSource>> sources = {});
  ~WorkerPool();

  // Starts the workers, pinned as config.pipeline.worker_cpus says. Pinning
  // failures are returned as messages; the workers run anyway.
  std::vector<std::string> start();

  // Whether the workers read their own sources (dispatch() is then unused).
  bool workers_read_sources() const { return reads_sources_; }
  // Per-worker sources: true once every worker's source has ended by itself
  // (end of file), or one has failed (its error in `error`).
  bool sources_ended(std::string& error) const;

  // Capture thread: hands over one burst (the frames may be reused afterwards).
  void dispatch(std::span<const RawFrame> frames);
  // Main thread: writes and ships whatever the workers finished; returns how
  // many outputs it handed over.
  std::size_t drain_outputs();
  // Capture thread, at the end: workers empty their rings, finish their
  // pipelines and aggregators; returns when all have stopped and every output
  // has been handed to the sink.
  void finish();

  // Capture thread: false once some worker has not turned its loop for
  // stall_us (wedged): the caller then stops the watchdog pings.
  bool workers_progressing(std::int64_t now_us, std::int64_t stall_us);

  // Main thread: the workers' sources' counters (capture.*, summed), the
  // pool's own counters (pipeline.*) and every worker counter summed over the
  // workers.
  void report(StatsSink& sink) const;

 private:
  struct CaptureCounters {
    std::uint64_t dispatched = 0;
    std::uint64_t queue_full_drops = 0;
  };

  const bool wait_when_full_;
  const bool reads_sources_;
  const LinkType link_type_;
  const std::vector<int> cpus_;
  PoolOutputSink& sink_;
  std::vector<std::unique_ptr<PipelineWorker>> workers_;
  std::vector<CaptureCounters> counters_;  // per worker, capture thread only
  std::vector<std::uint8_t> touched_;      // rings pushed to in this burst
  std::uint64_t truncated_frames_ = 0;
  std::uint64_t capture_waits_ = 0;
  std::uint64_t unhashed_frames_ = 0;
  std::vector<std::uint64_t> last_heartbeat_;
  std::vector<std::int64_t> heartbeat_changed_us_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace ipattrib::agent
