// LatencyHistogram: a fixed-bucket, lock-free histogram of durations for the
// Prometheus `histogram` type, cheap enough to observe on every batch from
// many threads (relaxed atomics: statistics, not synchronisation).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace ipattrib {

class LatencyHistogram {
 public:
  // Upper bounds in seconds, from 100 µs to 10 s; slower goes to +Inf.
  static constexpr std::array<double, 14> kBoundsSeconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   10.0};

  void observe(double seconds);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Upper bound of the bucket holding quantile q (0 < q <= 1); 0 when empty,
  // +infinity when it falls beyond the last bound.
  double quantile_upper_bound(double q) const;
  // Appends "# TYPE name histogram" and its _bucket/_sum/_count lines.
  void write_prometheus(std::string_view name, std::string& out) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBoundsSeconds.size() + 1> buckets_{};  // non-cumulative; last = +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

}  // namespace ipattrib
