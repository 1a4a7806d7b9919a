#include "collector/api/api_metrics.h"

#include <fmt/format.h>

namespace ipattrib::collector {

void ApiMetrics::record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  ++h.count;
  h.sum += seconds;
  for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (seconds <= kBucketsSeconds[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

void ApiMetrics::write_prometheus(std::string& out) const {
  std::lock_guard lock(mutex_);
  out += "# HELP ipattrib_api_requests_total Query API requests by route and HTTP status.\n";
  out += "# TYPE ipattrib_api_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += fmt::format("ipattrib_api_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
  }
  out += "# HELP ipattrib_api_request_duration_seconds Query API request latency by route.\n";
  out += "# TYPE ipattrib_api_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      cumulative += h.buckets[i];
      out += fmt::format("ipattrib_api_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
                         kBucketsSeconds[i], cumulative);
    }
    out += fmt::format("ipattrib_api_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route, h.count);
    out += fmt::format("ipattrib_api_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("ipattrib_api_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
}

}  // namespace ipattrib::collector
