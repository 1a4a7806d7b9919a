// [capture] backend and the [capture.dpdk] table. Parsed the same in builds
// with and without DPDK; only backend = "dpdk" itself depends on the build.
#include <gtest/gtest.h>

#include <string>

#include "agent/capture/capture_config.h"

namespace ipattrib::agent {
namespace {

CaptureConfig parse(const std::string& toml_text, ConfigErrors& errors) {
  const toml::table root = toml::parse(toml_text);
  return parse_capture_config(*root["capture"].as_table(), errors);
}

TEST(DpdkCaptureConfigTest, PcapIsTheDefaultBackendAndDpdkHasDefaults) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse("[capture]\ninterface = \"eth0\"\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.backend, CaptureBackend::kPcap);
  EXPECT_TRUE(c.dpdk.eal_args.empty());
  EXPECT_EQ(c.dpdk.port, "0");
  EXPECT_EQ(c.dpdk.rx_queues, 1);
  EXPECT_EQ(c.dpdk.mbuf_pool_size, 16383);
  EXPECT_EQ(c.dpdk.mbuf_cache, 256);
  EXPECT_EQ(c.dpdk.rx_ring_size, 1024);
  EXPECT_EQ(c.dpdk.burst, 32);
}

TEST(DpdkCaptureConfigTest, EveryKeyIsRead) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse(
      "[capture]\n[capture.dpdk]\neal_args = [\"-l\", \"2-3\", \"-a\", \"0000:03:00.0\"]\n"
      "port = \"0000:03:00.0\"\nrx_queues = 2\nmbuf_pool_size = 65535\nmbuf_cache = 512\nrx_ring_size = 4096\n"
      "burst = 64\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();  // in builds without DPDK too
  EXPECT_EQ(c.dpdk.eal_args, (std::vector<std::string>{"-l", "2-3", "-a", "0000:03:00.0"}));
  EXPECT_EQ(c.dpdk.port, "0000:03:00.0");
  EXPECT_EQ(c.dpdk.rx_queues, 2);
  EXPECT_EQ(c.dpdk.mbuf_pool_size, 65535);
  EXPECT_EQ(c.dpdk.mbuf_cache, 512);
  EXPECT_EQ(c.dpdk.rx_ring_size, 4096);
  EXPECT_EQ(c.dpdk.burst, 64);
}

TEST(DpdkCaptureConfigTest, PortMayBeAnIndex) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse("[capture]\n[capture.dpdk]\nport = 1\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.dpdk.port, "1");
}

TEST(DpdkCaptureConfigTest, DpdkBackendIsRefusedWithItsLineWhenTheBuildHasNoDpdk) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse("[capture]\n\nbackend = \"dpdk\"\n", errors);
  EXPECT_EQ(c.backend, CaptureBackend::kDpdk);
  if (dpdk_backend_built()) {
    EXPECT_TRUE(errors.empty()) << errors.to_string();
  } else {
    ASSERT_EQ(errors.errors().size(), 1u);
    EXPECT_EQ(errors.errors()[0].line, 3u);
    EXPECT_NE(errors.to_string().find("agent.toml:3: [capture] backend = \"dpdk\": this agent was built without DPDK"),
              std::string::npos)
        << errors.to_string();
  }
}

TEST(DpdkCaptureConfigTest, UnknownBackendIsRefused) {
  ConfigErrors errors("agent.toml");
  parse("[capture]\nbackend = \"netmap\"\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 2u);
  EXPECT_NE(errors.to_string().find("backend must be \"pcap\" or \"dpdk\""), std::string::npos);
}

TEST(DpdkCaptureConfigTest, DpdkBackendDoesNotTakeAnInterfaceOrAFile) {
  ConfigErrors errors("agent.toml");
  parse("[capture]\nbackend = \"dpdk\"\ninterface = \"eth0\"\n", errors);
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("agent.toml:3: [capture] backend = \"dpdk\" reads the [capture.dpdk] port"), std::string::npos)
      << all;
}

TEST(DpdkCaptureConfigTest, BadValuesAreReportedWithTheirLine) {
  ConfigErrors errors("agent.toml");
  parse(
      "[capture.dpdk]\n"
      "eal_args = \"--no-huge\"\n"  // 2: not an array
      "port = true\n"               // 3
      "rx_queues = 0\n"             // 4
      "mbuf_cache = 4096\n"         // 5
      "burst = 0\n"                 // 6
      "rx_ring = 512\n",            // 7: unknown key
      errors);
  const std::string all = errors.to_string();
  for (int line = 2; line <= 7; ++line) {
    EXPECT_NE(all.find("agent.toml:" + std::to_string(line) + ":"), std::string::npos) << "line " << line << ":\n" << all;
  }
  EXPECT_NE(all.find("rx_ring"), std::string::npos) << all;
}

TEST(DpdkCaptureConfigTest, APoolTooSmallForTheRingsIsRefused) {
  ConfigErrors errors("agent.toml");
  parse("[capture.dpdk]\nrx_queues = 4\nrx_ring_size = 4096\nmbuf_pool_size = 8191\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u) << errors.to_string();
  EXPECT_EQ(errors.errors()[0].line, 4u);
  EXPECT_NE(errors.to_string().find("mbuf_pool_size must hold every RX ring"), std::string::npos);
}

}  // namespace
}  // namespace ipattrib::agent
