// Shipper: the agent's shipping thread. Takes finished RecordBatches from the
// pipeline through a bounded lock-free queue (so the packet path never waits
// on disk or network), makes each durable in the DiskSpool (which numbers it),
// and keeps a CollectorClient connected that sends every spooled batch in
// order and pops what the collector acknowledged. While no collector answers,
// batches keep going to the spool and reconnects back off. On restart the
// spool is resent from where the ledger stands (HELLO_ACK), so each batch
// reaches the ledger exactly once.
//
// offer() is single-producer: one pipeline thread hands batches over (more
// producers need a queue each or a lock in front). Everything else runs on the
// shipper's own thread; report() reads a snapshot it publishes.
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/ship/disk_spool.h"
#include "agent/ship/record_batch_sink.h"
#include "agent/ship/transport/collector_client.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

struct ShipperOptions {
  SpoolOptions spool;
  CollectorClientOptions client;  // client.agent_id is stamped on every batch
  // Batches waiting between the pipeline and the shipper thread; a full queue
  // drops the offered batch (counted with its accesses) rather than block capture.
  std::size_t queue_capacity = 1024;
  // Offline replay (--read) has no capture to fall behind: offer() then waits
  // for room instead of dropping, so a fast reader cannot lose accesses.
  bool wait_when_full = false;
  // Batches sent and not yet acknowledged; bounds what one reconnect pushes at once.
  std::size_t max_in_flight = 64;
  // How long the idle thread waits for ACKs or new batches per turn.
  int idle_wait_ms = 20;
};

class Shipper final : public RecordBatchSink {
 public:
  // Opens the spool (taking its lock) and the client; does not start the thread.
  static Status create(const ShipperOptions& options, std::unique_ptr<Shipper>& out);
  ~Shipper() override;  // stop(0) if still running; queued batches not yet spooled are lost
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void start();
  // Hands a batch to the shipper thread. False when the queue is full or the
  // shipper is stopping: the batch is dropped, counted and logged.
  bool offer(RecordBatch&& batch);
  void on_batch(RecordBatch&& batch) override { (void)offer(std::move(batch)); }
  // Stops taking batches, spools everything queued, then keeps sending and
  // waiting for ACKs until the spool is empty or drain_timeout has passed.
  // What is still unacknowledged stays in the spool for the next start.
  void stop(std::chrono::milliseconds drain_timeout);

  // SIGHUP: checks the collector list and loads the TLS files now (a failure
  // changes nothing and says why); the shipper thread switches to them at its
  // next turn. Batches in the spool and the connection in use are kept
  // (CollectorClient::reconfigure). Safe from any one thread.
  Status reload_transport(const std::vector<std::string>& collectors, const tls::TlsFiles& tls_files);

  // ship.* counters, then the client's (transport) and the spool's.
  void report(StatsSink& sink) const;

 private:
  Shipper(const ShipperOptions& options, std::unique_ptr<DiskSpool> spool, std::unique_ptr<CollectorClient> client);

  void run();
  // One turn of the thread; false once a stop has drained or timed out.
  bool turn();
  // Moves up to `limit` queued batches to the spool (fsynced each).
  void spool_queued(std::size_t limit = SIZE_MAX);
  void maintain_connection();
  void on_connected();
  void send_pending();
  void poll_acks(int timeout_ms);
  void on_link_failure(const Status& status);
  void wait_idle();
  void publish_stats();
  // Applies what reload_transport() handed over (shipper thread).
  void apply_pending_transport();

  ShipperOptions options_;
  std::unique_ptr<DiskSpool> spool_;
  std::unique_ptr<CollectorClient> client_;
  boost::lockfree::spsc_queue<RecordBatch*> queue_;

  std::thread thread_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;

  // Handed from reload_transport() to the shipper thread.
  struct PendingTransport {
    std::vector<std::string> collectors;
    std::unique_ptr<tls::TlsContext> tls;
  };
  std::mutex reload_mutex_;
  std::unique_ptr<PendingTransport> pending_transport_;
  std::atomic<bool> transport_pending_{false};

  // Shipper-thread state.
  std::uint64_t last_sent_ = 0;  // highest sequence sent on the current connection
  std::chrono::steady_clock::time_point next_connect_{};
  std::vector<std::uint64_t> acked_;

  // Written by the producer.
  std::atomic<std::uint64_t> queue_full_drops_{0};
  std::atomic<std::uint64_t> queue_full_dropped_accesses_{0};
  std::atomic<std::uint64_t> offers_after_stop_{0};
  // Written by the shipper thread.
  struct Counters {
    std::uint64_t batches_spooled = 0;
    std::uint64_t spool_failures = 0;
    std::uint64_t spool_failed_accesses = 0;
    std::uint64_t batches_refused = 0;
    std::uint64_t spool_read_errors = 0;
    std::uint64_t link_failures = 0;
  } counters_;

  mutable std::mutex stats_mutex_;
  std::vector<std::pair<std::string, std::uint64_t>> stats_snapshot_;
  std::chrono::steady_clock::time_point last_publish_{};
  // Queue-full drops are logged at most once a second (producer thread only).
  std::chrono::steady_clock::time_point last_drop_log_{};
};

}  // namespace ipattrib::agent
