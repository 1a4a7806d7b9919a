// MetricsServer: the agent's optional HTTP endpoint ([agent] metrics_listen):
// GET /metrics (Prometheus text of the latest MetricsSnapshot) and
// GET /healthz (200 while the main loop publishes and the workers progress,
// 503 otherwise). It binds before privileges are dropped (a port below 1024
// needs root) and serves only after, on its own threads: one accept thread
// and kThreads request threads, with signals blocked there so SIGTERM and
// SIGHUP reach the main loop. Slow or hostile clients cannot hold more than
// those threads: read/write timeouts bound every request, and while kThreads
// requests are queued the accept thread waits, leaving further connections
// in the kernel's listen backlog. Scrapes only copy a snapshot pointer; they
// never touch the capture or the workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "agent/metrics/metrics_snapshot.h"
#include "ipattrib/status.h"

namespace httplib {
class Server;
}

namespace ipattrib::agent {

class MetricsServer {
 public:
  static constexpr int kThreads = 2;
  static constexpr int kTimeoutS = 2;

  // timeout_s: how long a request may take to arrive or to be sent, and an
  // idle keep-alive connection is kept.
  explicit MetricsServer(const MetricsSnapshot& snapshot, int timeout_s = kTimeoutS);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds "host:port" / "[v6]:port"; the error names the address and why
  // (address in use, not a local address, permission denied, ...).
  Status bind(const std::string& listen);
  // Serves on its own threads until stop().
  void start();
  // Closes the listening socket and waits for the threads (a request in
  // progress finishes, bounded by kTimeoutS).
  void stop();

 private:
  const MetricsSnapshot& snapshot_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
};

}  // namespace ipattrib::agent
