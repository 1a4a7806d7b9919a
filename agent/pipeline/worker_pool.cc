#include "agent/pipeline/worker_pool.h"

#include <chrono>
#include <thread>
#include <unordered_map>

#include "agent/pipeline/flow_hash.h"

namespace ipattrib::agent {
namespace {

// Sums counters of the same name reported by several workers, keeping the
// order in which names first appeared.
class CounterSum final : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override {
    auto [it, added] = index_.try_emplace(std::string(name), totals_.size());
    if (added) {
      totals_.emplace_back(it->first, value);
    } else {
      totals_[it->second].second += value;
    }
  }
  void report(StatsSink& sink) const {
    for (const auto& [name, value] : totals_) sink.counter(name, value);
  }

 private:
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::pair<std::string, std::uint64_t>> totals_;
};

}  // namespace

WorkerPool::WorkerPool(const AgentConfig& config, const GeoResolver& geo, LinkType link_type,
                       const WorkerOutputs& outputs, bool wait_when_full, PoolOutputSink& sink,
                       std::vector<std::unique_ptr<PacketSource>> sources)
    : wait_when_full_(wait_when_full),
      reads_sources_(!sources.empty()),
      link_type_(link_type),
      cpus_(config.pipeline.worker_cpus),
      sink_(sink) {
  const std::size_t n = reads_sources_ ? sources.size() : static_cast<std::size_t>(config.pipeline.workers);
  for (std::size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<PipelineWorker>(i, config, geo, link_type, outputs,
                                                        reads_sources_ ? std::move(sources[i]) : nullptr));
  }
  counters_.resize(n);
  touched_.resize(n);
  last_heartbeat_.resize(n);
  heartbeat_changed_us_.resize(n);
}

WorkerPool::~WorkerPool() {
  if (!finished_) finish();
}

std::vector<std::string> WorkerPool::start() {
  std::vector<std::string> errors;
  started_ = true;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    std::string error;
    if (!workers_[i]->start(i < cpus_.size() ? cpus_[i] : -1, error)) errors.push_back(std::move(error));
  }
  return errors;
}

void WorkerPool::dispatch(std::span<const RawFrame> frames) {
  const std::size_t n = workers_.size();
  for (const RawFrame& frame : frames) {
    std::uint32_t hash = 0;
    std::size_t w = 0;
    if (frame_flow_hash(link_type_, frame, hash)) {
      w = worker_for_hash(hash, n);
    } else {
      ++unhashed_frames_;  // worker 0's decoder counts why it is unusable
    }
    FrameRing& ring = workers_[w]->ring();
    bool truncated = false;
    bool pushed = ring.push(frame, truncated);
    while (!pushed && wait_when_full_) {
      ring.publish();  // let the worker see everything before waiting on it
      drain_outputs();
      ++capture_waits_;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      pushed = ring.push(frame, truncated);
    }
    if (!pushed) {
      ++counters_[w].queue_full_drops;
      continue;
    }
    truncated_frames_ += truncated ? 1 : 0;
    ++counters_[w].dispatched;
    touched_[w] = 1;
  }
  for (std::size_t w = 0; w < n; ++w) {
    if (touched_[w] != 0) {
      workers_[w]->ring().publish();
      touched_[w] = 0;
    }
  }
}

std::size_t WorkerPool::drain_outputs() {
  std::size_t handed = 0;
  for (auto& worker : workers_) {
    handed += worker->drain([this](const std::string& line) { sink_.on_event_line(line); },
                            [this](RecordBatch& batch) { sink_.on_batch(std::move(batch)); });
  }
  return handed;
}

bool WorkerPool::sources_ended(std::string& error) const {
  if (!reads_sources_) return false;
  bool all = true;
  for (const auto& worker : workers_) {
    if (!worker->source_ended()) {
      all = false;
    } else if (error.empty() && !worker->source_error().empty()) {
      error = worker->source_error();
    }
  }
  return all || !error.empty();
}

void WorkerPool::finish() {
  if (finished_) return;
  finished_ = true;
  if (!started_) return;  // never started (start-up failed): nothing ran, nothing to hand over
  for (auto& worker : workers_) worker->end_of_input();
  for (;;) {
    drain_outputs();
    bool all_finished = true;
    for (auto& worker : workers_) all_finished = all_finished && worker->finished();
    if (all_finished) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (auto& worker : workers_) worker->join();
  drain_outputs();  // what was queued between the last drain and the stop
}

bool WorkerPool::workers_progressing(std::int64_t now_us, std::int64_t stall_us) {
  bool progressing = true;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const std::uint64_t beat = workers_[i]->heartbeat();
    if (beat != last_heartbeat_[i] || heartbeat_changed_us_[i] == 0) {
      last_heartbeat_[i] = beat;
      heartbeat_changed_us_[i] = now_us;
    } else if (!workers_[i]->finished() && now_us - heartbeat_changed_us_[i] >= stall_us) {
      progressing = false;
    }
  }
  return progressing;
}

void WorkerPool::report(StatsSink& sink) const {
  if (reads_sources_) {
    CounterSum capture;
    for (const auto& worker : workers_) worker->report_source(capture);
    capture.report(sink);
  }
  CounterSum sum;
  for (const auto& worker : workers_) worker->report(sum);
  sum.report(sink);
  std::uint64_t dispatched = 0, drops = 0;
  for (const CaptureCounters& c : counters_) {
    dispatched += c.dispatched;
    drops += c.queue_full_drops;
  }
  sink.counter("pipeline.workers", workers_.size());
  sink.counter("pipeline.frames_dispatched", dispatched);
  sink.counter("pipeline.queue_full_drops", drops);
  sink.counter("pipeline.truncated_frames", truncated_frames_);
  sink.counter("pipeline.unhashed_frames", unhashed_frames_);
  sink.counter("pipeline.capture_waits", capture_waits_);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const std::string prefix = "pipeline.worker" + std::to_string(i);
    sink.counter(prefix + ".frames", workers_[i]->frames());
    sink.counter(prefix + ".queue_full_drops", counters_[i].queue_full_drops);
  }
}

}  // namespace ipattrib::agent
