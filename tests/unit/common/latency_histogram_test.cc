#include "ipattrib/latency_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace ipattrib {
namespace {

TEST(LatencyHistogram, EmptyHasNoQuantileAndZeroCounts) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.quantile_upper_bound(0.99), 0.0);
  std::string out;
  histogram.write_prometheus("x_seconds", out);
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_count 0\n"), std::string::npos);
}

TEST(LatencyHistogram, QuantilesLandInTheRightBucket) {
  LatencyHistogram histogram;
  for (int i = 0; i < 98; ++i) histogram.observe(0.0003);  // (0.00025, 0.0005]
  histogram.observe(0.02);                                 // (0.01, 0.025]
  histogram.observe(30.0);                                 // beyond 10 s
  EXPECT_EQ(histogram.count(), 100u);
  EXPECT_DOUBLE_EQ(histogram.quantile_upper_bound(0.5), 0.0005);
  EXPECT_DOUBLE_EQ(histogram.quantile_upper_bound(0.99), 0.025);
  EXPECT_TRUE(std::isinf(histogram.quantile_upper_bound(1.0)));
}

TEST(LatencyHistogram, PrometheusBucketsAreCumulativeAndBoundaryInclusive) {
  LatencyHistogram histogram;
  histogram.observe(0.001);  // exactly a bound: counted in le="0.001"
  histogram.observe(0.002);
  histogram.observe(-1);  // clock went backwards: counted as 0
  std::string out;
  histogram.write_prometheus("ipattrib_x_seconds", out);
  EXPECT_NE(out.find("ipattrib_x_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ipattrib_x_seconds_bucket{le=\"0.001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ipattrib_x_seconds_bucket{le=\"0.0025\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ipattrib_x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ipattrib_x_seconds_sum 0.003\n"), std::string::npos) << out;
}

TEST(LatencyHistogram, ConcurrentObserversLoseNothing) {
  LatencyHistogram histogram;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) histogram.observe(0.004);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(histogram.count(), 40000u);
  std::string out;
  histogram.write_prometheus("h", out);
  EXPECT_NE(out.find("h_bucket{le=\"0.005\"} 40000\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipattrib
