#include "ipattrib/latency_histogram.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace ipattrib {

void LatencyHistogram::observe(double seconds) {
  seconds = std::max(seconds, 0.0);
  const auto bound = std::lower_bound(kBoundsSeconds.begin(), kBoundsSeconds.end(), seconds);
  buckets_[static_cast<std::size_t>(bound - kBoundsSeconds.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanoseconds_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

double LatencyHistogram::quantile_upper_bound(double q) const {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.999999);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return kBoundsSeconds[i];
  }
  return std::numeric_limits<double>::infinity();
}

void LatencyHistogram::write_prometheus(std::string_view name, std::string& out) const {
  out += fmt::format("# TYPE {} histogram\n", name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBoundsSeconds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBoundsSeconds[i], cumulative);
  }
  cumulative += buckets_.back().load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  out += fmt::format("{}_sum {}\n", name, static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9);
  out += fmt::format("{}_count {}\n", name, cumulative);
}

}  // namespace ipattrib
