// IngestServer: the collector's listener for agents. Accepts TLS connections
// with mutual certificate authentication and runs one IngestSession per
// connection on its own thread (bounded by max_connections), so a slow,
// hostile or broken agent affects only its own connection. Batches reach the
// LedgerStore, which commits each durably before the agent is acknowledged.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "collector/ingest/ingest_config.h"
#include "collector/ingest/ingest_counters.h"
#include "collector/ingest/ingest_session.h"
#include "collector/ledger/ledger_store.h"
#include "common/tls/tcp_socket.h"
#include "common/tls/tls_context.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::collector {

class IngestServer {
 public:
  // store must outlive the server.
  IngestServer(const IngestConfig& config, LedgerStore& store, const wire::WireLimits& limits = wire::WireLimits());
  ~IngestServer();  // stop()
  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  // Optional, before start(): runs after every committed batch, before its
  // ACK. Must outlive the server.
  void set_committed_batch_observer(CommittedBatchObserver* observer);
  // Loads the TLS files, binds the listen address and starts accepting.
  Status start();
  // The bound port (useful with listen port 0).
  std::uint16_t port() const { return port_; }
  // SIGHUP: new connections use `config`'s certificates, allow-list and
  // idle timeout; open connections keep what they started with. The TLS
  // files are loaded first, so a bad one changes nothing (the error says
  // why). `listen` and `max_connections` need a restart (a warning says so).
  Status reload(const IngestConfig& config);
  // Stops accepting, lets every connection finish the batch in hand (commit
  // and ACK), tells agents shutting_down and joins all threads. Idempotent.
  void stop();

  void report(StatsSink& sink) const { counters_.report(sink); }
  const IngestCounters& counters() const { return counters_; }

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve(tls::UniqueFd fd, std::string peer, Connection& connection);
  // Joins the threads of connections that ended.
  void reap(bool all);

  IngestConfig config_;
  LedgerStore& store_;
  // What a new connection starts with; reload() swaps both, a connection
  // holds its copies until it ends.
  mutable std::mutex current_mutex_;
  std::shared_ptr<const IngestSessionSettings> settings_;
  std::shared_ptr<tls::TlsContext> tls_;
  tls::UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex connections_mutex_;
  std::list<Connection> connections_;
  IngestCounters counters_;
};

}  // namespace ipattrib::collector
