#include "agent/config/pipeline_config.h"

#include <gtest/gtest.h>

#include <string>

namespace ipattrib::agent {
namespace {

PipelineConfig parse(const std::string& toml_text, ConfigErrors& errors) {
  const toml::table root = toml::parse(toml_text);
  return parse_pipeline_config(*root["pipeline"].as_table(), errors);
}

TEST(PipelineConfigTest, DefaultsAreOneWorkerOnTheCaptureThread) {
  ConfigErrors errors("agent.toml");
  const PipelineConfig c = parse("[pipeline]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.workers, 1);
  EXPECT_EQ(c.queue_mb, 16);
  EXPECT_EQ(c.burst, 64);
  EXPECT_EQ(c.output_queue, 8192);
  EXPECT_EQ(c.capture_cpu, -1);
  EXPECT_TRUE(c.worker_cpus.empty());
}

TEST(PipelineConfigTest, EveryKeyIsRead) {
  ConfigErrors errors("agent.toml");
  const PipelineConfig c = parse(
      "[pipeline]\nworkers = 3\nqueue_mb = 64\nburst = 128\noutput_queue = 1024\ncapture_cpu = 0\n"
      "worker_cpus = [1, 2, 3]\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.workers, 3);
  EXPECT_EQ(c.queue_mb, 64);
  EXPECT_EQ(c.burst, 128);
  EXPECT_EQ(c.output_queue, 1024);
  EXPECT_EQ(c.capture_cpu, 0);
  EXPECT_EQ(c.worker_cpus, (std::vector<int>{1, 2, 3}));
}

TEST(PipelineConfigTest, WorkerCpusMustNameOneCpuPerWorker) {
  ConfigErrors errors("agent.toml");
  parse("[pipeline]\nworkers = 2\nworker_cpus = [1, 2, 3]\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].to_string(), "agent.toml:3: [pipeline] worker_cpus needs one CPU per worker (2), or none");
}

TEST(PipelineConfigTest, BadValuesAreReportedWithTheirLine) {
  ConfigErrors errors("agent.toml");
  parse("[pipeline]\nworkers = 0\nqueue_mb = \"big\"\nworker_cpus = [-1]\nthreads = 2\n", errors);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("agent.toml:2:"), std::string::npos) << all;  // workers out of range
  EXPECT_NE(all.find("agent.toml:3:"), std::string::npos) << all;  // wrong type
  EXPECT_NE(all.find("agent.toml:4:"), std::string::npos) << all;  // not a CPU number
  EXPECT_NE(all.find("agent.toml:5:"), std::string::npos) << all;  // unknown key
  EXPECT_EQ(errors.errors().size(), 4u) << all;
}

TEST(PipelineConfigTest, WorkerCpusMustBeAnArray) {
  ConfigErrors errors("agent.toml");
  parse("[pipeline]\nworker_cpus = 1\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 2u);
}

}  // namespace
}  // namespace ipattrib::agent
