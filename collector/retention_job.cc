#include "collector/retention_job.h"

#include <spdlog/spdlog.h>

namespace ipattrib::collector {

std::int64_t RetentionJob::system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RetentionJob::RetentionJob(LedgerStore& store, std::uint32_t retention_days, std::chrono::seconds interval,
                           Clock now)
    : store_(store), retention_days_(retention_days), interval_(interval), now_(std::move(now)) {}

RetentionJob::~RetentionJob() { stop(); }

void RetentionJob::start() {
  if (retention_days_ == 0) {
    spdlog::info("retention: retention_days = 0, the ledger keeps everything");
    return;
  }
  thread_ = std::thread([this] { loop(); });
}

void RetentionJob::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RetentionJob::run_once() {
  if (retention_days_ == 0) return Status::ok();
  const std::int64_t cutoff_ms = now_() - std::int64_t{retention_days_} * 24 * 3600 * 1000;
  RetentionResult result;
  Status status = store_.apply_retention(cutoff_ms, result);
  runs_.fetch_add(1, std::memory_order_relaxed);
  if (!status) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("retention: failed: {}", status.message());
    return status;
  }
  accesses_deleted_.fetch_add(result.accesses_deleted, std::memory_order_relaxed);
  summaries_deleted_.fetch_add(result.summaries_deleted, std::memory_order_relaxed);
  if (result.accesses_deleted != 0 || result.summaries_deleted != 0) {
    spdlog::info("retention: deleted {} accesses and {} IP summaries last seen more than {} days ago",
                 result.accesses_deleted, result.summaries_deleted, retention_days_);
  }
  return status;
}

void RetentionJob::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    run_once();
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void RetentionJob::report(StatsSink& sink) const {
  sink.counter("retention.runs", runs_.load(std::memory_order_relaxed));
  sink.counter("retention.failures", failures_.load(std::memory_order_relaxed));
  sink.counter("retention.accesses_deleted", accesses_deleted_.load(std::memory_order_relaxed));
  sink.counter("retention.summaries_deleted", summaries_deleted_.load(std::memory_order_relaxed));
}

}  // namespace ipattrib::collector
