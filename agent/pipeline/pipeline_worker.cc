#include "agent/pipeline/pipeline_worker.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "agent/output/event_json_writer.h"

namespace ipattrib::agent {
namespace {

// Frames handed to the pipeline per ring read; bounds the time between
// releases of ring space and between clock checks.
constexpr std::size_t kFramesPerTurn = 256;
// Busy turns between wall-clock checks (window close, snapshot).
constexpr std::uint32_t kTurnsPerServiceCheck = 64;
// How often the aggregator's window is checked against the wall clock and
// how often counters are copied for report().
constexpr std::int64_t kServiceIntervalUs = 50000;
constexpr std::int64_t kSnapshotIntervalUs = 250000;
// An idle worker sleeps this long at most between looks at its ring.
constexpr std::int64_t kMaxIdleSleepUs = 1000;

std::int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class PipelineWorker::BatchQueueSink final : public RecordBatchSink {
 public:
  explicit BatchQueueSink(PipelineWorker& worker) : worker_(worker) {}
  void on_batch(RecordBatch&& batch) override {
    const std::size_t waits =
        worker_.batches_.push(std::make_unique<RecordBatch>(std::move(batch)), [this] { worker_.beat(); });
    if (waits > 0) worker_.output_waits_.fetch_add(waits, std::memory_order_relaxed);
  }

 private:
  PipelineWorker& worker_;
};

// The worker's end of the pipeline: each event is formatted here (so the JSON
// work is spread over the workers too) and/or aggregated.
class PipelineWorker::EventFanOut final : public AccessEventSink {
 public:
  EventFanOut(PipelineWorker& worker, bool lines, Aggregator* aggregator)
      : worker_(worker), lines_(lines), aggregator_(aggregator) {}
  void on_access(const AccessEvent& event) override {
    if (lines_) {
      const std::size_t waits = worker_.lines_.push(std::make_unique<std::string>(EventJsonWriter::to_json(event)),
                                                    [this] { worker_.beat(); });
      if (waits > 0) worker_.output_waits_.fetch_add(waits, std::memory_order_relaxed);
    }
    if (aggregator_ != nullptr) aggregator_->on_access(event);
  }

 private:
  PipelineWorker& worker_;
  const bool lines_;
  Aggregator* aggregator_;
};

PipelineWorker::PipelineWorker(std::size_t index, const AgentConfig& config, const GeoResolver& geo,
                               LinkType link_type, const WorkerOutputs& outputs, std::unique_ptr<PacketSource> source)
    : index_(index),
      link_type_(link_type),
      burst_(static_cast<std::size_t>(config.pipeline.burst)),
      source_(std::move(source)),
      ring_(source_ != nullptr ? 0 : std::size_t(config.pipeline.queue_mb) << 20),  // unused with a source
      lines_(static_cast<std::size_t>(config.pipeline.output_queue)),
      batches_(static_cast<std::size_t>(config.pipeline.output_queue)),
      batch_sink_(std::make_unique<BatchQueueSink>(*this)),
      aggregator_(outputs.aggregation ? std::make_unique<Aggregator>(*outputs.aggregation, nullptr, *batch_sink_)
                                      : nullptr),
      events_(std::make_unique<EventFanOut>(*this, outputs.event_lines, aggregator_.get())),
      pipeline_(config, geo, *events_) {
  publish_snapshot();
}

PipelineWorker::~PipelineWorker() {
  if (thread_.joinable()) {
    end_of_input();
    join();
  }
}

bool PipelineWorker::start(int cpu, std::string& error) {
  thread_ = std::thread([this] { run(); });
  if (cpu < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int rc = pthread_setaffinity_np(thread_.native_handle(), sizeof(set), &set); rc != 0) {
    error = "worker " + std::to_string(index_) + " on CPU " + std::to_string(cpu) + ": " + std::strerror(rc);
    return false;
  }
  return true;
}

void PipelineWorker::end_of_input() {
  input_ended_.store(true, std::memory_order_release);
  if (source_ != nullptr) source_->break_loop();  // its read returns kEnd
}

void PipelineWorker::join() {
  if (thread_.joinable()) thread_.join();
}

void PipelineWorker::run() {
  // "ipattrib-w0": visible in top -H, perf and /proc, at most 15 characters.
  pthread_setname_np(pthread_self(), ("ipattrib-w" + std::to_string(index_)).substr(0, 15).c_str());
  if (source_ != nullptr) {
    run_on_source();
  } else {
    run_on_ring();
  }
  pipeline_.finish();
  if (aggregator_ != nullptr) aggregator_->flush_all();
  publish_snapshot();
  finished_.store(true, std::memory_order_release);
}

void PipelineWorker::run_on_ring() {
  std::vector<RawFrame> frames(kFramesPerTurn);
  auto process = [this](std::span<const RawFrame> burst) { pipeline_.process_burst(link_type_, burst); };
  std::uint32_t turns = 0;
  std::int64_t idle_sleep_us = 0;
  for (;;) {
    beat();
    const std::size_t n = ring_.consume_burst(frames, process);
    if (n > 0) {
      frames_.value.store(frames_.value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
      idle_sleep_us = 0;
      if (++turns % kTurnsPerServiceCheck == 0) service(wall_now_us());
      continue;
    }
    // Everything pushed before end_of_input() was published before it: once
    // the flag is seen, one more empty look means the ring is done.
    if (input_ended_.load(std::memory_order_acquire) && ring_.drained()) break;
    service(wall_now_us());
    if (idle_sleep_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(idle_sleep_us));
    idle_sleep_us = std::min<std::int64_t>(kMaxIdleSleepUs, idle_sleep_us * 2 + 50);
  }
}

// The worker is its own capture thread: bursts from its source (views into
// the source's buffers, e.g. mbufs) go straight into its pipeline. The source
// returns within its read timeout when idle, so the loop still beats and
// closes windows; end_of_input() stops the source, which then returns kEnd.
void PipelineWorker::run_on_source() {
  std::vector<RawFrame> burst(burst_);
  std::uint32_t turns = 0;
  for (;;) {
    beat();
    ReadStatus status = ReadStatus::kFrames;
    const std::size_t n = source_->read_burst(burst, status);
    pipeline_.process_burst(link_type_, {burst.data(), n});
    if (n > 0) frames_.value.store(frames_.value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    if (status == ReadStatus::kEnd || status == ReadStatus::kError) {
      if (status == ReadStatus::kError) source_error_ = source_->error().empty() ? "read failed" : source_->error();
      break;
    }
    if (n == 0 || ++turns % kTurnsPerServiceCheck == 0) service(wall_now_us());
  }
  source_ended_.store(true, std::memory_order_release);
}

void PipelineWorker::service(std::int64_t now_us) {
  if (now_us >= next_service_us_) {
    // Closes the open window once the wall clock has passed its end, as the
    // single-threaded agent does from its main loop.
    if (aggregator_ != nullptr) aggregator_->flush_due(now_us / 1000);
    next_service_us_ = now_us + kServiceIntervalUs;
  }
  if (now_us >= next_snapshot_us_) {
    publish_snapshot();
    next_snapshot_us_ = now_us + kSnapshotIntervalUs;
  }
}

void PipelineWorker::publish_snapshot() {
  StatsLine fresh;
  pipeline_.report(fresh);
  if (aggregator_ != nullptr) aggregator_->report(fresh);
  fresh.counter("pipeline.output_waits", output_waits_.load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  snapshot_ = std::move(fresh);
}

void PipelineWorker::report_source(StatsSink& sink) const {
  if (source_ != nullptr) source_->report(sink);
}

void PipelineWorker::report(StatsSink& sink) const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  for (const auto& [name, value] : snapshot_.counters()) sink.counter(name, value);
}

}  // namespace ipattrib::agent
