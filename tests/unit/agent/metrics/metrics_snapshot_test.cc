#include "agent/metrics/metrics_snapshot.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace ipattrib::agent {
namespace {

constexpr std::int64_t kStart = 1700000000000000;

MetricsSnapshot::Identity identity() { return {"gw-1-agent", "gw\"1", "1.2.3", kStart}; }

// The sample line of `metric` (with its labels), or "".
std::string sample(const std::string& text, const std::string& metric) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(metric + " ", 0) == 0) return line;
  }
  return "";
}

TEST(MetricsSnapshotTest, BeforeTheFirstPublishOnlyIdentityAndStarting) {
  MetricsSnapshot snapshot(identity());
  const std::string text = snapshot.prometheus_text(kStart + 5000000);
  EXPECT_EQ(sample(text, "ipattrib_agent_info{version=\"1.2.3\",agent=\"gw-1-agent\",gateway=\"gw\\\"1\"}"),
            "ipattrib_agent_info{version=\"1.2.3\",agent=\"gw-1-agent\",gateway=\"gw\\\"1\"} 1")
      << text;
  EXPECT_EQ(sample(text, "process_start_time_seconds"), "process_start_time_seconds 1700000000.000") << text;
  EXPECT_EQ(text.find("_total"), std::string::npos) << text;
  const MetricsHealth health = snapshot.health(kStart);
  EXPECT_FALSE(health.ok);
  EXPECT_EQ(health.status, "starting");
}

TEST(MetricsSnapshotTest, EveryStatsLineCounterIsExported) {
  MetricsSnapshot snapshot(identity());
  StatsLine line;
  line.counter("capture.frames", 120);
  line.counter("capture.kernel_drops", 3);
  line.counter("http.requests", 7);
  line.counter("flow.active", 4);
  line.counter("flow.buffer_bytes_in_use", 65536);
  line.counter("spool.bytes", 10);
  line.counter("pipeline.queue_full_drops", 2);
  line.counter("flow.evicted_table_full", 1);
  const std::int64_t at = kStart + 2000000;
  ASSERT_TRUE(snapshot.due(at));
  snapshot.publish(line, at, true);
  EXPECT_FALSE(snapshot.due(at + MetricsSnapshot::kPublishIntervalUs - 1));
  EXPECT_TRUE(snapshot.due(at + MetricsSnapshot::kPublishIntervalUs));

  const std::string text = snapshot.prometheus_text(at + 500000);
  for (const auto& [name, value] : line.counters()) {
    const std::string family = "ipattrib_agent_" + std::regex_replace(name, std::regex("\\."), "_");
    const bool gauge = name == "flow.active" || name == "flow.buffer_bytes_in_use" || name == "spool.bytes";
    const std::string metric = gauge ? family : family + "_total";
    EXPECT_EQ(sample(text, metric), metric + " " + std::to_string(value)) << text;
    EXPECT_NE(text.find("# TYPE " + metric + (gauge ? " gauge\n" : " counter\n")), std::string::npos) << text;
  }
  EXPECT_TRUE(MetricsSnapshot::is_gauge("flow.active"));
  EXPECT_TRUE(MetricsSnapshot::is_gauge("spool.bytes"));
  EXPECT_FALSE(MetricsSnapshot::is_gauge("capture.kernel_drops"));
  EXPECT_EQ(sample(text, "ipattrib_agent_metrics_age_seconds"), "ipattrib_agent_metrics_age_seconds 0.500");
  EXPECT_EQ(sample(text, "ipattrib_agent_pipeline_stalled"), "ipattrib_agent_pipeline_stalled 0");
}

TEST(MetricsSnapshotTest, PerInstanceCountersBecomeLabels) {
  EXPECT_EQ(MetricsSnapshot::series_of("pipeline.worker12.frames").family, "pipeline.worker.frames");
  EXPECT_EQ(MetricsSnapshot::series_of("pipeline.worker12.frames").label, "worker");
  EXPECT_EQ(MetricsSnapshot::series_of("pipeline.worker12.frames").label_value, "12");
  EXPECT_EQ(MetricsSnapshot::series_of("capture.dpdk_queue3_packets").family, "capture.dpdk_queue_packets");
  EXPECT_EQ(MetricsSnapshot::series_of("capture.dpdk_queue3_packets").label, "queue");
  EXPECT_EQ(MetricsSnapshot::series_of("capture.dpdk_queue3_packets").label_value, "3");
  // Not an instance number: the name stays.
  for (const char* name : {"pipeline.workers", "proxy.v1", "pipeline.worker.frames", "capture.dpdk_queue_x",
                           "attribution.by_rule.jwt", "geo.db_age_s"}) {
    EXPECT_EQ(MetricsSnapshot::series_of(name).family, name);
    EXPECT_EQ(MetricsSnapshot::series_of(name).label, "");
  }

  MetricsSnapshot snapshot(identity());
  StatsLine line;
  line.counter("pipeline.workers", 2);
  line.counter("pipeline.worker0.frames", 10);
  line.counter("pipeline.worker0.queue_full_drops", 1);
  line.counter("pipeline.worker1.frames", 20);
  line.counter("pipeline.worker1.queue_full_drops", 0);
  snapshot.publish(line, kStart, true);
  const std::string text = snapshot.prometheus_text(kStart);
  EXPECT_NE(text.find("# TYPE ipattrib_agent_pipeline_workers gauge\nipattrib_agent_pipeline_workers 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE ipattrib_agent_pipeline_worker_frames_total counter\n"
                      "ipattrib_agent_pipeline_worker_frames_total{worker=\"0\"} 10\n"
                      "ipattrib_agent_pipeline_worker_frames_total{worker=\"1\"} 20\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ipattrib_agent_pipeline_worker_queue_full_drops_total{worker=\"1\"} 0\n"), std::string::npos)
      << text;
}

TEST(MetricsSnapshotTest, TextIsValidExposition) {
  MetricsSnapshot snapshot(identity());
  StatsLine line;
  line.counter("decode.frames", 1);
  line.counter("attribution.by_rule.jwt", 2);
  line.counter("pipeline.worker0.frames", 3);
  snapshot.publish(line, kStart, true);
  const std::regex sample_line(
      R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [0-9.e+-]+$)re");
  const std::regex type_line(R"re(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge)$)re");
  std::istringstream lines(snapshot.prometheus_text(kStart));
  int samples = 0;
  int types = 0;
  for (std::string line_text; std::getline(lines, line_text);) {
    if (line_text.rfind("# HELP ", 0) == 0) continue;
    if (line_text.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line_text, type_line)) << line_text;
      ++types;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line_text, sample_line)) << line_text;
    ++samples;
  }
  EXPECT_EQ(types, 7);  // info, start time, age, stalled, three counters
  EXPECT_EQ(samples, 7);
}

TEST(MetricsSnapshotTest, HealthFollowsTheMainLoopAndTheWorkers) {
  MetricsSnapshot snapshot(identity());
  StatsLine line;
  snapshot.publish(line, kStart, true);
  EXPECT_TRUE(snapshot.health(kStart + 1000000).ok);
  EXPECT_EQ(snapshot.health(kStart + 1000000).status, "ok");
  const MetricsHealth stale = snapshot.health(kStart + MetricsSnapshot::kStaleUs + 1);
  EXPECT_FALSE(stale.ok);
  EXPECT_EQ(stale.status, "stalled");
  EXPECT_GT(stale.snapshot_age_s, 10.0);

  snapshot.publish(line, kStart + 2000000, false);
  EXPECT_FALSE(snapshot.health(kStart + 2000000).ok);
  EXPECT_EQ(snapshot.health(kStart + 2000000).status, "no_progress");
  EXPECT_NE(snapshot.prometheus_text(kStart + 2000000).find("ipattrib_agent_pipeline_stalled 1\n"),
            std::string::npos);
}

// The main thread publishes while HTTP threads read: every scrape sees one
// whole snapshot, and later scrapes never see older counters (run under
// ThreadSanitizer too).
TEST(MetricsSnapshotTest, ScrapesWhilePublishingSeeWholeSnapshotsInOrder) {
  MetricsSnapshot snapshot(identity());
  constexpr int kPublishes = 2000;
  std::thread publisher([&] {
    for (int i = 1; i <= kPublishes; ++i) {
      StatsLine line;
      line.counter("http.requests", static_cast<std::uint64_t>(i));
      line.counter("attribution.requests", static_cast<std::uint64_t>(i));
      snapshot.publish(line, kStart + i, true);
    }
  });
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 2; ++t) {
    scrapers.emplace_back([&] {
      long long last = 0;
      for (int i = 0; i < 200; ++i) {
        const std::string text = snapshot.prometheus_text(kStart + kPublishes);
        const std::string requests = sample(text, "ipattrib_agent_http_requests_total");
        if (requests.empty()) continue;  // before the first publish
        const long long value = std::stoll(requests.substr(requests.find(' ') + 1));
        EXPECT_GE(value, last);
        EXPECT_EQ(sample(text, "ipattrib_agent_attribution_requests_total"),
                  "ipattrib_agent_attribution_requests_total " + std::to_string(value));
        last = value;
      }
    });
  }
  publisher.join();
  for (std::thread& t : scrapers) t.join();
  EXPECT_EQ(sample(snapshot.prometheus_text(kStart + kPublishes), "ipattrib_agent_http_requests_total"),
            "ipattrib_agent_http_requests_total " + std::to_string(kPublishes));
}

}  // namespace
}  // namespace ipattrib::agent
