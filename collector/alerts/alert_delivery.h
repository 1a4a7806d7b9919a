// AlertDelivery: the background worker that drains the persistent outbox,
// one thread per sink so a slow webhook delays nobody else. Each thread
// delivers its sink's due entries oldest first; a failure pauses the sink
// with exponential backoff and full jitter and is retried without limit, so
// an alert is never dropped. Entries live in the AlertStore, so a restarted
// collector resumes where the last one stopped (at-least-once).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/alerts/alert_sink.h"
#include "collector/alerts/alert_store.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::collector {

struct AlertDeliveryOptions {
  std::uint32_t retry_base_ms = 1000;   // backoff after the first failure is uniform in [0, base]
  std::uint32_t retry_max_ms = 300000;  // ... after the n-th in [0, min(max, base * 2^(n-1))]
  // How often an idle sink looks at the outbox without being woken (entries
  // recorded by another process, retries that fell due).
  std::uint32_t poll_interval_ms = 1000;
  std::uint32_t batch_limit = 100;  // entries claimed from the outbox per turn
  // How long claimed entries stay reserved to this worker. Entries of one
  // claim are only started within the first quarter of the lease (the rest
  // are given back and claimed anew), so the lease must exceed a quarter of
  // itself plus the longest single delivery (a sink's timeout).
  std::uint32_t lease_ms = 120000;
};

class AlertDelivery {
 public:
  // The store must outlive this object.
  AlertDelivery(AlertStore& store, std::vector<std::unique_ptr<AlertSink>> sinks, AlertDeliveryOptions options);
  ~AlertDelivery();  // stops
  AlertDelivery(const AlertDelivery&) = delete;
  AlertDelivery& operator=(const AlertDelivery&) = delete;

  void start();
  // Interrupts deliveries in progress and joins every thread.
  void stop();
  // New outbox entries were recorded: look now instead of at the next poll.
  void wake();

  // alerts.delivered, alerts.delivery_failures, alerts.outbox_pending (a
  // gauge), and the same per sink as alerts.sink.<name>.<counter>.
  void report(StatsSink& stats) const;

 private:
  struct SinkWorker {
    std::unique_ptr<AlertSink> sink;
    std::thread thread;
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> pending{0};
  };

  void run(SinkWorker& worker);
  // One pass over a claim of due entries; returns how long to wait before the
  // next, and whether a wake() may cut that wait short (not while backing off).
  std::int64_t drain(SinkWorker& worker, std::uint32_t& consecutive_failures, std::uint64_t& seed, bool& wake_early);
  // Gives back claimed entries not delivered or failed, so that another
  // collector need not wait for the lease to expire.
  void release(const AlertSink& sink, const std::vector<OutboxEntry>& entries, std::size_t from);
  std::int64_t backoff_ms(std::uint32_t failures, std::uint64_t& seed) const;
  // Sleeps up to wait_ms unless stopped or, with wake_early, woken since
  // `seen` (updated).
  void wait(std::int64_t wait_ms, bool wake_early, std::uint64_t& seen);
  bool stopping();

  AlertStore& store_;
  AlertDeliveryOptions options_;
  std::vector<std::unique_ptr<SinkWorker>> workers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t wakeups_ = 0;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  bool started_ = false;
};

}  // namespace ipattrib::collector
