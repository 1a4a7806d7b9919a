#include "ipattrib/prometheus_text.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

namespace ipattrib {
namespace {

std::string render(const PrometheusText& text) {
  std::string out;
  text.write(out);
  return out;
}

TEST(PrometheusText, CountersGetTotalAndGaugesKeepTheirName) {
  PrometheusText text("ipattrib_");
  text.counter("ingest.batches", 5);
  text.counter("ingest.connections_active", 2);
  EXPECT_EQ(render(text),
            "# HELP ipattrib_ingest_batches_total stats line: ingest.batches\n"
            "# TYPE ipattrib_ingest_batches_total counter\n"
            "ipattrib_ingest_batches_total 5\n"
            "# HELP ipattrib_ingest_connections_active stats line: ingest.connections_active\n"
            "# TYPE ipattrib_ingest_connections_active gauge\n"
            "ipattrib_ingest_connections_active 2\n");
}

TEST(PrometheusText, GaugeRuleAndPrefixAreTheCallers) {
  PrometheusText text("ipattrib_agent_", [](std::string_view name) { return name == "spool.bytes"; });
  text.counter("spool.bytes", 4096);
  text.counter("flow.active", 3);  // the default suffix rule is replaced
  const std::string out = render(text);
  EXPECT_NE(out.find("# TYPE ipattrib_agent_spool_bytes gauge\nipattrib_agent_spool_bytes 4096\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("# TYPE ipattrib_agent_flow_active_total counter\n"), std::string::npos) << out;
}

TEST(PrometheusText, NamesAreSanitised) {
  EXPECT_EQ(PrometheusText::metric_name("p_", "a.b-c/d e"), "p_a_b_c_d_e");
  EXPECT_EQ(PrometheusText::metric_name("p_", "worker0.frames"), "p_worker0_frames");
}

TEST(PrometheusText, LabelledSamplesOfOneFamilyStayTogether) {
  PrometheusText text("x_");
  // Reported interleaved, as per-worker counters are.
  text.add("pipeline.worker_frames", {{"worker", "0"}}, 10);
  text.add("pipeline.worker_drops", {{"worker", "0"}}, 1);
  text.add("pipeline.worker_frames", {{"worker", "1"}}, 20);
  text.add("pipeline.worker_drops", {{"worker", "1"}}, 2);
  EXPECT_EQ(render(text),
            "# HELP x_pipeline_worker_frames_total stats line: pipeline.worker_frames\n"
            "# TYPE x_pipeline_worker_frames_total counter\n"
            "x_pipeline_worker_frames_total{worker=\"0\"} 10\n"
            "x_pipeline_worker_frames_total{worker=\"1\"} 20\n"
            "# HELP x_pipeline_worker_drops_total stats line: pipeline.worker_drops\n"
            "# TYPE x_pipeline_worker_drops_total counter\n"
            "x_pipeline_worker_drops_total{worker=\"0\"} 1\n"
            "x_pipeline_worker_drops_total{worker=\"1\"} 2\n");
}

TEST(PrometheusText, ASeriesReportedTwiceKeepsItsFirstValue) {
  PrometheusText text("x_");
  text.counter("a.b", 1);
  text.counter("a.b", 7);
  text.add("a.c", {{"q", "1"}}, 3);
  text.add("a.c", {{"q", "1"}}, 4);
  const std::string out = render(text);
  EXPECT_NE(out.find("x_a_b_total 1\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("x_a_b_total 7"), std::string::npos) << out;
  EXPECT_EQ(out.find("q=\"1\"} 4"), std::string::npos) << out;
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  PrometheusText text("x_");
  text.add("info", {{"version", "a\"b\\c\nd"}}, 1);
  EXPECT_NE(render(text).find("x_info_total{version=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << render(text);
}

TEST(PrometheusText, OutputIsValidExpositionText) {
  PrometheusText text("ipattrib_");
  text.counter("decode.frames", 12);
  text.counter("flow.active", 0);
  text.add("capture.dpdk_queue_packets", {{"queue", "3"}}, 9);
  const std::regex sample(R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? [0-9]+$)re");
  const std::regex comment(R"re(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)re");
  std::istringstream lines(render(text));
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_EQ(samples, 3);
}

}  // namespace
}  // namespace ipattrib
