#include "agent/ship/shipper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

namespace ipattrib::agent {

namespace {

std::uint64_t count_accesses(const RecordBatch& batch) {
  std::uint64_t n = 0;
  for (const AttributionRecord& record : batch.records) n += record.access_times_ms.size();
  return n;
}

// Collects another module's counters into the snapshot report() hands out.
class SnapshotSink final : public StatsSink {
 public:
  explicit SnapshotSink(std::vector<std::pair<std::string, std::uint64_t>>& out) : out_(out) {}
  void counter(std::string_view name, std::uint64_t value) override { out_.emplace_back(std::string(name), value); }

 private:
  std::vector<std::pair<std::string, std::uint64_t>>& out_;
};

constexpr std::chrono::milliseconds kPublishInterval{250};
// Batches moved from the queue to the spool per turn: each is fsynced, so a
// producer that keeps the queue full (a file replay) must not keep the
// shipper spooling forever without sending.
constexpr std::size_t kSpoolPerTurn = 32;

}  // namespace

Status Shipper::create(const ShipperOptions& options, std::unique_ptr<Shipper>& out) {
  if (options.queue_capacity == 0 || options.max_in_flight == 0) {
    return Status::error("shipper: queue_capacity and max_in_flight must be at least 1");
  }
  std::unique_ptr<DiskSpool> spool;
  if (Status s = DiskSpool::open(options.spool, spool); !s) return s;
  std::unique_ptr<CollectorClient> client;
  if (Status s = CollectorClient::create(options.client, client); !s) return s;
  out.reset(new Shipper(options, std::move(spool), std::move(client)));
  out->publish_stats();
  return Status::ok();
}

Shipper::Shipper(const ShipperOptions& options, std::unique_ptr<DiskSpool> spool,
                 std::unique_ptr<CollectorClient> client)
    : options_(options), spool_(std::move(spool)), client_(std::move(client)), queue_(options.queue_capacity) {}

Shipper::~Shipper() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
  queue_.consume_all([](RecordBatch* batch) { delete batch; });
}

void Shipper::start() {
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

bool Shipper::offer(RecordBatch&& batch) {
  if (!accepting_.load(std::memory_order_relaxed)) {
    offers_after_stop_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("shipper: batch offered after stop; its {} accesses are LOST", count_accesses(batch));
    return false;
  }
  while (options_.wait_when_full && queue_.write_available() == 0 && thread_.joinable() &&
         accepting_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Checked before allocating: with one producer the free space only grows until push.
  if (queue_.write_available() == 0) {
    const std::uint64_t accesses = count_accesses(batch);
    queue_full_drops_.fetch_add(1, std::memory_order_relaxed);
    queue_full_dropped_accesses_.fetch_add(accesses, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_drop_log_ >= std::chrono::seconds(1)) {
      last_drop_log_ = now;
      spdlog::error("shipper: queue full ({} batches); {} batches with {} accesses LOST so far",
                    options_.queue_capacity, queue_full_drops_.load(std::memory_order_relaxed),
                    queue_full_dropped_accesses_.load(std::memory_order_relaxed));
    }
    return false;
  }
  batch.agent_id = options_.client.agent_id;
  queue_.push(new RecordBatch(std::move(batch)));
  return true;
}

void Shipper::stop(std::chrono::milliseconds drain_timeout) {
  accepting_ = false;
  if (!thread_.joinable()) {
    // Never started: nothing is in flight, but what was queued still belongs on disk.
    spool_queued();
    publish_stats();
    return;
  }
  drain_deadline_ = std::chrono::steady_clock::now() + drain_timeout;
  stopping_ = true;  // publishes drain_deadline_ to the thread
  wake_.notify_all();
  thread_.join();
}

void Shipper::run() {
  while (turn()) {
  }
  spool_queued();
  if (!spool_->empty()) {
    spdlog::warn("shipper: stopping with {} batches unacknowledged; they stay in the spool for the next start",
                 spool_->batch_count());
  }
  client_->disconnect();
  publish_stats();
}

Status Shipper::reload_transport(const std::vector<std::string>& collectors, const tls::TlsFiles& tls_files) {
  if (Status s = CollectorClient::check_collectors(collectors); !s) return s;
  CollectorClientOptions next = options_.client;
  next.tls = tls_files;
  auto pending = std::make_unique<PendingTransport>();
  if (Status s = CollectorClient::make_tls(next, pending->tls); !s) return s;
  pending->collectors = collectors;
  {
    std::lock_guard lock(reload_mutex_);
    pending_transport_ = std::move(pending);
  }
  transport_pending_.store(true, std::memory_order_release);
  if (!thread_.joinable()) apply_pending_transport();
  wake_.notify_all();
  return Status::ok();
}

void Shipper::apply_pending_transport() {
  std::unique_ptr<PendingTransport> pending;
  {
    std::lock_guard lock(reload_mutex_);
    pending = std::move(pending_transport_);
    transport_pending_.store(false, std::memory_order_relaxed);
  }
  if (pending == nullptr) return;
  client_->reconfigure(std::move(pending->collectors), std::move(pending->tls));
  // A new list is worth trying at once rather than after the old backoff.
  next_connect_ = std::chrono::steady_clock::now();
}

bool Shipper::turn() {
  if (transport_pending_.load(std::memory_order_acquire)) apply_pending_transport();
  spool_queued(kSpoolPerTurn);
  const bool drained = spool_->empty() && queue_.read_available() == 0;
  if (stopping_ && (drained || std::chrono::steady_clock::now() >= drain_deadline_)) return false;
  maintain_connection();
  if (client_->connected()) {
    send_pending();
    if (client_->connected()) poll_acks(queue_.read_available() > 0 ? 0 : options_.idle_wait_ms);
  } else {
    wait_idle();
  }
  if (std::chrono::steady_clock::now() - last_publish_ >= kPublishInterval) publish_stats();
  return true;
}

void Shipper::spool_queued(std::size_t limit) {
  RecordBatch* raw = nullptr;
  for (std::size_t n = 0; n < limit && queue_.pop(raw); ++n) {
    std::unique_ptr<RecordBatch> batch(raw);
    Status s = spool_->append_batch(*batch, options_.client.limits);
    if (s) {
      ++counters_.batches_spooled;
      continue;
    }
    const std::uint64_t accesses = count_accesses(*batch);
    ++counters_.spool_failures;
    counters_.spool_failed_accesses += accesses;
    spdlog::error("shipper: batch {} could not be spooled ({}); its {} accesses are LOST", batch->sequence, s.message(),
                  accesses);
  }
}

void Shipper::maintain_connection() {
  if (client_->connected() || std::chrono::steady_clock::now() < next_connect_) return;
  const std::uint64_t lowest = spool_->front_sequence().value_or(0);
  const std::uint64_t highest = spool_->back_sequence().value_or(0);
  if (Status s = client_->connect(lowest, highest); !s) {
    next_connect_ = std::chrono::steady_clock::now() + client_->reconnect_delay();
    spdlog::warn("shipper: no collector reachable ({}); {} batches spooled, retrying in {} ms", s.message(),
                 spool_->batch_count(), client_->reconnect_delay().count());
    return;
  }
  on_connected();
}

void Shipper::on_connected() {
  const std::uint64_t committed = client_->highest_committed();
  // A spool that was lost or replaced must not reuse sequences the ledger already holds.
  if (Status s = spool_->raise_sequence_floor(committed); !s) {
    spdlog::error("shipper: cannot persist the sequence floor {}: {}", committed, s.message());
  }
  if (Status s = spool_->pop_through(committed); !s) {
    spdlog::error("shipper: cannot remove committed batches from the spool: {}", s.message());
  }
  last_sent_ = committed;
  spdlog::info("shipper: connected to {}; ledger holds through batch {}, {} batches to send",
               client_->connected_collector(), committed, spool_->batch_count());
}

void Shipper::send_pending() {
  // Most turns have nothing new: skip listing the spool.
  if (client_->in_flight() >= options_.max_in_flight || spool_->back_sequence().value_or(0) <= last_sent_) return;
  SpooledBatch batch;
  for (std::uint64_t sequence : spool_->sequences_after(last_sent_)) {
    if (client_->in_flight() >= options_.max_in_flight) return;
    if (Status s = spool_->read(sequence, batch); !s) {
      ++counters_.spool_read_errors;
      spdlog::error("shipper: spooled batch {} does not read back: {}", sequence, s.message());
      if (spool_->front_sequence() == sequence) {
        (void)spool_->drop_front("unreadable in the spool");
      } else {
        last_sent_ = sequence;  // skipped; a later cumulative ACK removes it from the spool
      }
      continue;
    }
    if (Status s = client_->send(sequence, batch.frame); !s) {
      on_link_failure(s);
      return;
    }
    last_sent_ = sequence;
  }
}

void Shipper::poll_acks(int timeout_ms) {
  acked_.clear();
  Status s = client_->poll_acks(acked_, timeout_ms);
  if (!acked_.empty()) {
    if (Status popped = spool_->pop_through(acked_.back()); !popped) {
      spdlog::error("shipper: cannot remove acknowledged batches from the spool: {}", popped.message());
    }
  }
  if (!s) on_link_failure(s);
}

void Shipper::on_link_failure(const Status& status) {
  ++counters_.link_failures;
  client_->disconnect();
  // The collector handles one batch at a time in order, so the batch it
  // refused is the oldest unacknowledged one; resending it would fail forever.
  const auto front = spool_->front_sequence();
  if (client_->last_error_code() == wire::WireErrorCode::kBadBatch && front && *front <= last_sent_) {
    ++counters_.batches_refused;
    (void)spool_->drop_front("refused by the collector as bad_batch");
  }
  next_connect_ = std::chrono::steady_clock::now() + client_->reconnect_delay();
  spdlog::warn("shipper: link to the collector failed ({}); {} batches spooled", status.message(),
               spool_->batch_count());
}

void Shipper::wait_idle() {
  std::unique_lock lock(wake_mutex_);
  if (stopping_) {
    // Draining without a connection: wait for the next attempt, not beyond the deadline.
    const auto until = std::min(next_connect_, drain_deadline_);
    wake_.wait_until(lock, std::max(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)));
    return;
  }
  wake_.wait_for(lock, std::chrono::milliseconds(options_.idle_wait_ms));
}

void Shipper::publish_stats() {
  std::vector<std::pair<std::string, std::uint64_t>> snapshot;
  snapshot.emplace_back("ship.batches_spooled", counters_.batches_spooled);
  snapshot.emplace_back("ship.spool_failures", counters_.spool_failures);
  snapshot.emplace_back("ship.spool_failed_accesses", counters_.spool_failed_accesses);
  snapshot.emplace_back("ship.batches_refused", counters_.batches_refused);
  snapshot.emplace_back("ship.spool_read_errors", counters_.spool_read_errors);
  snapshot.emplace_back("ship.link_failures", counters_.link_failures);
  SnapshotSink sink(snapshot);
  client_->report(sink);
  spool_->report(sink);
  last_publish_ = std::chrono::steady_clock::now();
  std::lock_guard lock(stats_mutex_);
  stats_snapshot_.swap(snapshot);
}

void Shipper::report(StatsSink& sink) const {
  sink.counter("ship.queue_full_drops", queue_full_drops_.load(std::memory_order_relaxed));
  sink.counter("ship.queue_full_dropped_accesses", queue_full_dropped_accesses_.load(std::memory_order_relaxed));
  sink.counter("ship.offers_after_stop", offers_after_stop_.load(std::memory_order_relaxed));
  std::lock_guard lock(stats_mutex_);
  for (const auto& [name, value] : stats_snapshot_) sink.counter(name, value);
}

}  // namespace ipattrib::agent
