// RetentionJob: the thread that enforces the ledger's retention window — at
// start and then every interval it deletes access detail older than
// retention_days and the summaries whose last access is older, and counts
// and logs what it deleted (a record-keeping system must be able to show
// what it no longer holds and why).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "collector/ledger/ledger_store.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class RetentionJob {
 public:
  // Milliseconds since the Unix epoch; replaceable so tests need not wait years.
  using Clock = std::function<std::int64_t()>;
  static std::int64_t system_now_ms();

  // retention_days 0 keeps everything (the job never deletes). store must
  // outlive the job.
  RetentionJob(LedgerStore& store, std::uint32_t retention_days, std::chrono::seconds interval,
               Clock now = system_now_ms);
  ~RetentionJob();  // stop()
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  void start();
  // Wakes the thread and joins it; a run in progress finishes first. Idempotent.
  void stop();
  // One pass, on the caller's thread.
  Status run_once();

  // retention.runs, retention.failures, retention.accesses_deleted, retention.summaries_deleted
  void report(StatsSink& sink) const;

 private:
  void loop();

  LedgerStore& store_;
  std::uint32_t retention_days_;
  std::chrono::seconds interval_;
  Clock now_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> runs_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> accesses_deleted_{0};
  std::atomic<std::uint64_t> summaries_deleted_{0};
};

}  // namespace ipattrib::collector
