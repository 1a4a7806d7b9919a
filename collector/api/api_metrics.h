// ApiMetrics: request counts by route and status and a latency histogram per
// route, written in the Prometheus text format for GET /metrics. Routes are a
// fixed small set of names (never the request path, which holds account ids).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace ipattrib::collector {

class ApiMetrics {
 public:
  static constexpr std::array<double, 10> kBucketsSeconds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                             0.025,  0.05,  0.1,    0.5,   2.5};

  void record(const std::string& route, int status, double seconds);
  // Appends the families ipattrib_api_requests_total and
  // ipattrib_api_request_duration_seconds.
  void write_prometheus(std::string& out) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBucketsSeconds.size()> buckets{};  // non-cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace ipattrib::collector
