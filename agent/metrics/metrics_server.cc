#include "agent/metrics/metrics_server.h"

#include <httplib.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "ipattrib/listen_address.h"

namespace ipattrib::agent {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// httplib's ThreadPool queues without bound; this one makes the accept
// thread wait while `threads` connections are already queued.
class BoundedThreadPool final : public httplib::TaskQueue {
 public:
  explicit BoundedThreadPool(int threads) : max_queued_(static_cast<std::size_t>(threads)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      room_.notify_one();
      fn();
    }
  }

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// httplib reports only that the bind failed; the same bind again says why.
std::string bind_failure_reason(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result); rc != 0) {
    return ::gai_strerror(rc);
  }
  std::string reason = "no usable address";
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    exclusive_listen_socket_options(fd);
    const bool ok = ::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1) == 0;
    reason = ok ? "bind failed, then succeeded on retry" : std::strerror(errno);
    ::close(fd);
    if (!ok) break;
  }
  ::freeaddrinfo(result);
  return reason;
}

}  // namespace

MetricsServer::MetricsServer(const MetricsSnapshot& snapshot, int timeout_s)
    : snapshot_(snapshot), server_(std::make_unique<httplib::Server>()) {
  httplib::Server& server = *server_;
  // A second agent on the same address must fail to start rather than
  // silently share the scrapes.
  server.set_socket_options(exclusive_listen_socket_options);
  server.new_task_queue = [] { return new BoundedThreadPool(kThreads); };
  server.set_read_timeout(timeout_s, 0);
  server.set_write_timeout(timeout_s, 0);
  server.set_keep_alive_timeout(timeout_s);
  server.set_keep_alive_max_count(100);
  server.set_payload_max_length(4096);  // only GETs are served
  server.set_tcp_nodelay(true);
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(snapshot_.prometheus_text(now_us()), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const MetricsHealth health = snapshot_.health(now_us());
    res.status = health.ok ? 200 : 503;
    res.set_content(fmt::format("{{\"status\":\"{}\",\"metrics_age_s\":{:.3f}}}\n", health.status,
                                health.snapshot_age_s),
                    "application/json");
  });
}

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::bind(const std::string& listen) {
  std::string host;
  int port = 0;
  if (!split_listen_address(listen, host, port)) {
    return Status::error(fmt::format("metrics_listen \"{}\" is not \"host:port\" or \"[v6]:port\"", listen));
  }
  if (!server_->bind_to_port(host, port)) {
    return Status::error(fmt::format("cannot listen on {}: {}", listen, bind_failure_reason(host, port)));
  }
  return Status::ok();
}

void MetricsServer::start() {
  // The server's threads inherit this mask: signals go to the main thread.
  sigset_t blocked;
  sigset_t previous;
  sigemptyset(&blocked);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&blocked, s);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_.store(true);
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing until its loop has started: a stop right
  // after start() (a capture that fails at once) waits for it.
  while (!server_->is_running() && !listen_returned_.load()) std::this_thread::yield();
  server_->stop();
  thread_.join();
}

}  // namespace ipattrib::agent
