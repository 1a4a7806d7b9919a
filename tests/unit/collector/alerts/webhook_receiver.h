// A real HTTP(S) webhook receiver for the alert tests: an httplib server on
// 127.0.0.1 that records every request, answers 503 to the first
// `fail_first` requests, and can hold requests until released (a receiver
// that never answers).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ipattrib::collector::testing {

struct ReceivedRequest {
  std::string path;
  std::string body;
  std::string signature;
  std::string timestamp;
  std::string alert_id;
  std::string content_type;
};

class WebhookReceiver {
 public:
  // Plain HTTP, or HTTPS with the given certificate and key.
  WebhookReceiver(const std::string& cert = "", const std::string& key = "") {
    if (cert.empty()) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      server_ = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
    }
    server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::yield();
  }
  ~WebhookReceiver() {
    release();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& scheme = "http", const std::string& path = "/hook") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  void fail_first(int n) { fail_remaining_ = n; }
  void hold_requests() { holding_ = true; }
  void release() {
    {
      std::lock_guard lock(mutex_);
      holding_ = false;
    }
    cv_.notify_all();
  }

  std::vector<ReceivedRequest> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  int refused() const { return refused_; }
  int arrived() const { return arrived_; }

  // Polls until pred() or ~30 s; returns pred(). Not a timing assertion: a
  // slow machine only waits longer.
  template <typename Pred>
  static bool eventually(Pred pred) {
    for (int i = 0; i < 3000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    ++arrived_;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !holding_; });
    }
    if (fail_remaining_.fetch_sub(1) > 0) {
      ++refused_;
      res.status = 503;
      return;
    }
    ReceivedRequest r{req.path,
                      req.body,
                      req.get_header_value("X-Ipattrib-Signature"),
                      req.get_header_value("X-Ipattrib-Timestamp"),
                      req.get_header_value("X-Ipattrib-Alert-Id"),
                      req.get_header_value("Content-Type")};
    std::lock_guard lock(mutex_);
    accepted_.push_back(std::move(r));
    res.status = 204;
  }

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> fail_remaining_{0};
  std::atomic<int> refused_{0};
  std::atomic<int> arrived_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool holding_ = false;
  std::vector<ReceivedRequest> accepted_;
};

}  // namespace ipattrib::collector::testing
