// What the metrics endpoint costs the agent's main thread once a second
// (BM_MetricsPublish: copying a stats line of kCounters counters into the
// snapshot) and an HTTP thread per scrape (BM_MetricsRender: the Prometheus
// text of it). The packet path does not take part in either.
#include <benchmark/benchmark.h>

#include <string>

#include "agent/metrics/metrics_snapshot.h"

namespace ipattrib::agent {
namespace {

// About the agent's stats line with two workers and shipping on.
constexpr int kCounters = 160;

StatsLine stats_line() {
  StatsLine line;
  for (int i = 0; i < kCounters - 4; ++i) {
    line.counter("module" + std::to_string(i % 12) + ".reason_" + std::to_string(i), i);
  }
  line.counter("pipeline.worker0.frames", 1000);
  line.counter("pipeline.worker1.frames", 1000);
  line.counter("flow.active", 300);
  line.counter("spool.bytes", 4096);
  return line;
}

void BM_MetricsPublish(benchmark::State& state) {
  MetricsSnapshot snapshot({"agent", "gw", "0", 0});
  const StatsLine line = stats_line();
  std::int64_t now = 0;
  for (auto _ : state) {
    snapshot.publish(line, now += 1000000, true);
  }
}
BENCHMARK(BM_MetricsPublish);

void BM_MetricsRender(benchmark::State& state) {
  MetricsSnapshot snapshot({"agent", "gw", "0", 0});
  snapshot.publish(stats_line(), 0, true);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = snapshot.prometheus_text(500000);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_MetricsRender);

}  // namespace
}  // namespace ipattrib::agent
