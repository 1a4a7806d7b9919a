#include "collector/alerts/alert_delivery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace ipattrib::collector {
namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

AlertDelivery::AlertDelivery(AlertStore& store, std::vector<std::unique_ptr<AlertSink>> sinks,
                             AlertDeliveryOptions options)
    : store_(store), options_(options) {
  options_.retry_base_ms = std::max<std::uint32_t>(options_.retry_base_ms, 1);
  options_.retry_max_ms = std::max(options_.retry_max_ms, options_.retry_base_ms);
  options_.batch_limit = std::max<std::uint32_t>(options_.batch_limit, 1);
  options_.lease_ms = std::max<std::uint32_t>(options_.lease_ms, 4);
  for (auto& sink : sinks) {
    auto worker = std::make_unique<SinkWorker>();
    worker->sink = std::move(sink);
    workers_.push_back(std::move(worker));
  }
}

AlertDelivery::~AlertDelivery() { stop(); }

void AlertDelivery::start() {
  if (started_) return;
  started_ = true;
  for (auto& worker : workers_) {
    SinkWorker* w = worker.get();
    w->thread = std::thread([this, w] { run(*w); });
  }
}

void AlertDelivery::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& worker : workers_) worker->sink->interrupt();
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
}

void AlertDelivery::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wakeups_;
  }
  cv_.notify_all();
}

bool AlertDelivery::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void AlertDelivery::wait(std::int64_t wait_ms, bool wake_early, std::uint64_t& seen) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(wait_ms, 0)),
               [&] { return stopping_ || (wake_early && wakeups_ != seen); });
  seen = wakeups_;
}

// Full jitter (uniform in [0, cap]): many collectors retrying one receiver
// spread out instead of arriving together.
std::int64_t AlertDelivery::backoff_ms(std::uint32_t failures, std::uint64_t& seed) const {
  const std::uint32_t doublings = std::min<std::uint32_t>(failures > 0 ? failures - 1 : 0, 40);
  const std::uint64_t cap =
      std::min<std::uint64_t>(options_.retry_max_ms, static_cast<std::uint64_t>(options_.retry_base_ms) << doublings);
  return static_cast<std::int64_t>(splitmix64(seed) % (cap + 1));
}

void AlertDelivery::run(SinkWorker& worker) {
  std::uint64_t seed = std::random_device{}();
  std::uint32_t consecutive_failures = 0;
  std::uint64_t seen = 0;
  while (!stopping()) {
    bool wake_early = true;
    const std::int64_t pause = drain(worker, consecutive_failures, seed, wake_early);
    if (pause > 0) wait(pause, wake_early, seen);
  }
}

void AlertDelivery::release(const AlertSink& sink, const std::vector<OutboxEntry>& entries, std::size_t from) {
  for (std::size_t i = from; i < entries.size(); ++i) {
    if (Status s = store_.release_delivery(entries[i].id); !s) {
      // Harmless: the lease expires and the entry is claimed again then.
      spdlog::warn("alerts: sink {}: giving back outbox entry {}: {}", sink.name(), entries[i].id, s.message());
    }
  }
}

std::int64_t AlertDelivery::drain(SinkWorker& worker, std::uint32_t& consecutive_failures, std::uint64_t& seed,
                                  bool& wake_early) {
  AlertSink& sink = *worker.sink;
  const auto refresh_pending = [&] {
    std::uint64_t pending = 0;
    if (store_.outbox_depth(sink.name(), pending)) worker.pending = pending;
  };
  std::vector<OutboxEntry> entries;
  const auto claimed = std::chrono::steady_clock::now();
  if (Status s = store_.claim_deliveries(sink.name(), wall_ms(), options_.lease_ms, options_.batch_limit, entries);
      !s) {
    spdlog::error("alerts: sink {}: claiming from the outbox: {}", sink.name(), s.message());
    return options_.poll_interval_ms;
  }
  const auto start_before = claimed + std::chrono::milliseconds(options_.lease_ms / 4);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const OutboxEntry& entry = entries[i];
    if (stopping()) {
      release(sink, entries, i);
      return 0;
    }
    if (std::chrono::steady_clock::now() >= start_before) {
      release(sink, entries, i);  // too little of the lease left to start these: claim afresh
      refresh_pending();
      return 0;
    }
    Alert alert;
    bool found = false;
    if (Status s = store_.get_alert(entry.alert_id, alert, found); !s) {
      spdlog::error("alerts: sink {}: reading alert {}: {}", sink.name(), entry.alert_id, s.message());
      release(sink, entries, i);
      return options_.poll_interval_ms;
    }
    if (!found) {
      spdlog::warn("alerts: sink {}: outbox entry for missing alert {} dropped", sink.name(), entry.alert_id);
      store_.mark_delivered(entry.id);
      continue;
    }
    if (Status s = sink.deliver(alert); !s) {
      if (stopping()) {  // interrupted by stop(): not the sink's failure; the entry stays owed, untried
        release(sink, entries, i);
        return 0;
      }
      ++worker.failures;
      ++consecutive_failures;
      // A sink that keeps failing, or an alert that keeps failing on its
      // own, backs off further each time.
      const std::int64_t delay = backoff_ms(std::max(consecutive_failures, entry.attempts + 1), seed);
      if (Status m = store_.mark_failed(entry.id, wall_ms() + delay, s.message()); !m) {
        spdlog::error("alerts: sink {}: recording a failed delivery: {}", sink.name(), m.message());
      }
      release(sink, entries, i + 1);  // this sink pauses; another collector may deliver them meanwhile
      // Logged on the first failure and at every doubling, not per retry.
      if ((consecutive_failures & (consecutive_failures - 1)) == 0) {
        spdlog::warn("alerts: sink {}: delivery of alert {} failed ({} in a row), retrying in {} ms: {}", sink.name(),
                     alert.id, consecutive_failures, delay, s.message());
      }
      refresh_pending();
      wake_early = false;
      return std::max<std::int64_t>(delay, 1);  // the sink pauses; the outbox keeps everything
    }
    ++worker.delivered;
    if (consecutive_failures > 0) {
      spdlog::info("alerts: sink {}: delivering again after {} failed attempts", sink.name(), consecutive_failures);
      consecutive_failures = 0;
    }
    if (Status m = store_.mark_delivered(entry.id); !m) {
      // Delivered but still queued: it will be sent again once the lease
      // expires (at-least-once).
      spdlog::error("alerts: sink {}: recording delivery of alert {}: {}", sink.name(), alert.id, m.message());
    }
  }
  refresh_pending();
  return entries.size() == options_.batch_limit ? 0 : options_.poll_interval_ms;
}

void AlertDelivery::report(StatsSink& stats) const {
  std::uint64_t delivered = 0, failures = 0, pending = 0;
  for (const auto& w : workers_) {
    delivered += w->delivered;
    failures += w->failures;
    pending += w->pending;
  }
  stats.counter("alerts.delivered", delivered);
  stats.counter("alerts.delivery_failures", failures);
  stats.counter("alerts.outbox_pending", pending);
  for (const auto& w : workers_) {
    const std::string prefix = "alerts.sink." + w->sink->name();
    stats.counter(prefix + ".delivered", w->delivered);
    stats.counter(prefix + ".delivery_failures", w->failures);
    stats.counter(prefix + ".outbox_pending", w->pending);
  }
}

}  // namespace ipattrib::collector
