// DpdkPort and its queue sources on net_pcap vdevs reading a capture this
// test writes (no hugepages, no NIC). The EAL starts once per process with
// every vdev the tests use; ctest runs each test in its own process, and
// each test reads a vdev of its own so they also pass run together.
#include "agent/capture/dpdk_source.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ipattrib::agent {
namespace {

constexpr int kFrames = 200;
constexpr int kJumboFrame = 7;           // longer than one mbuf: a chain
constexpr std::int64_t kFirstTs = 1700000000LL * 1000000;

// Ethernet + IPv4 + TCP to port 8080 (even frames) or 9090 (odd), payload
// bytes derived from the frame number.
std::vector<std::uint8_t> frame_bytes(int i) {
  const std::size_t payload = i == kJumboFrame ? 5000 : 20 + i % 50;
  std::vector<std::uint8_t> f(14 + 20 + 20 + payload, 0);
  f[12] = 0x08;  // IPv4
  std::uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  const std::size_t ip_len = f.size() - 14;
  ip[2] = static_cast<std::uint8_t>(ip_len >> 8);
  ip[3] = static_cast<std::uint8_t>(ip_len);
  ip[8] = 64;
  ip[9] = 6;  // TCP
  ip[12] = 10, ip[15] = 2, ip[16] = 10, ip[19] = 1;
  std::uint8_t* tcp = ip + 20;
  tcp[0] = 0xc0, tcp[1] = static_cast<std::uint8_t>(i);
  const std::uint16_t port = i % 2 == 0 ? 8080 : 9090;
  tcp[2] = static_cast<std::uint8_t>(port >> 8), tcp[3] = static_cast<std::uint8_t>(port);
  tcp[12] = 0x50;
  tcp[13] = 0x18;
  for (std::size_t b = 54; b < f.size(); ++b) f[b] = static_cast<std::uint8_t>(i * 7 + b);
  return f;
}

std::int64_t frame_ts(int i) { return kFirstTs + i * 1001; }

std::string work_dir() {
  return std::filesystem::temp_directory_path() / ("ipattrib-dpdk-test-" + std::to_string(getpid()));
}

class RemoveWorkDir : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(work_dir()); }
};
const ::testing::Environment* const remove_work_dir = ::testing::AddGlobalTestEnvironment(new RemoveWorkDir);

const std::string& capture_file() {
  static const std::string path = [] {
    const std::string dir = work_dir();
    std::filesystem::create_directories(dir);
    const std::string file = dir + "/frames.pcap";
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* dumper = pcap_dump_open(dead, file.c_str());
    for (int i = 0; i < kFrames; ++i) {
      const std::vector<std::uint8_t> f = frame_bytes(i);
      pcap_pkthdr header{};
      header.ts.tv_sec = frame_ts(i) / 1000000;
      header.ts.tv_usec = frame_ts(i) % 1000000;
      header.caplen = header.len = static_cast<bpf_u_int32>(f.size());
      pcap_dump(reinterpret_cast<u_char*>(dumper), &header, f.data());
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    return file;
  }();
  return path;
}

// The config every test starts from: one EAL for the process, four vdevs.
CaptureConfig dpdk_config(const std::string& port) {
  CaptureConfig config;
  config.backend = CaptureBackend::kDpdk;
  config.dpdk.eal_args = {"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "128",
                          "--file-prefix=ipattrib-dpdk-test-" + std::to_string(getpid())};
  for (int vdev = 0; vdev < 4; ++vdev) {
    config.dpdk.eal_args.push_back("--vdev=net_pcap" + std::to_string(vdev) + ",rx_pcap=" + capture_file());
  }
  config.dpdk.port = port;
  config.dpdk.mbuf_pool_size = 2047;
  config.dpdk.mbuf_cache = 64;
  config.dpdk.rx_ring_size = 512;
  config.read_timeout_ms = 10;
  return config;
}

struct CopiedFrame {
  std::int64_t ts_us;
  std::uint32_t wire_length;
  std::vector<std::uint8_t> data;
};

// Reads until the source says why it stopped; copies every frame.
ReadStatus read_all(PacketSource& source, std::vector<CopiedFrame>& frames) {
  std::array<RawFrame, 16> burst;
  for (int reads = 0; reads < 100000; ++reads) {
    ReadStatus status = ReadStatus::kError;
    const std::size_t n = source.read_burst(burst, status);
    for (std::size_t i = 0; i < n; ++i) {
      frames.push_back({burst[i].ts_us, burst[i].wire_length, {burst[i].data.begin(), burst[i].data.end()}});
    }
    if (status != ReadStatus::kFrames) return status;
  }
  return ReadStatus::kError;
}

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

TEST(DpdkSourceTest, ReadsEveryFrameWithItsBytesAndCaptureTimestampThenEnds) {
  Status status;
  std::unique_ptr<PacketSource> source = open_dpdk_source(dpdk_config("net_pcap0"), status);
  ASSERT_TRUE(source) << status.message();
  EXPECT_EQ(source->link_type(), LinkType::kEthernet);
  EXPECT_TRUE(source->replays_a_file());

  std::vector<CopiedFrame> frames;
  EXPECT_EQ(read_all(*source, frames), ReadStatus::kEnd);
  ASSERT_EQ(frames.size(), static_cast<std::size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) {
    const std::vector<std::uint8_t> expected = frame_bytes(i);
    EXPECT_EQ(frames[i].data, expected) << "frame " << i;
    EXPECT_EQ(frames[i].wire_length, expected.size()) << "frame " << i;
    EXPECT_EQ(frames[i].ts_us, frame_ts(i)) << "frame " << i;
  }

  CounterMap counters;
  source->report(counters);
  EXPECT_EQ(counters.values["capture.frames"], static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(counters.values["capture.dpdk_queue0_packets"], static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(counters.values["capture.dpdk_linearized"], 1u);  // the jumbo frame
  ASSERT_TRUE(counters.values.contains("capture.dpdk_imissed"));
  EXPECT_EQ(counters.values["capture.dpdk_imissed"], 0u);
  EXPECT_EQ(counters.values["capture.dpdk_rx_nombuf"], 0u);
  EXPECT_EQ(counters.values["capture.dpdk_ierrors"], 0u);

  ReadStatus status_after = ReadStatus::kFrames;
  std::array<RawFrame, 4> burst;
  EXPECT_EQ(source->read_burst(burst, status_after), 0u);
  EXPECT_EQ(status_after, ReadStatus::kEnd);  // the end sticks
}

TEST(DpdkSourceTest, TheCaptureFilterRunsInSoftware) {
  CaptureConfig config = dpdk_config("net_pcap1");
  config.filter = "tcp dst port 8080";
  Status status;
  std::unique_ptr<PacketSource> source = open_dpdk_source(config, status);
  ASSERT_TRUE(source) << status.message();
  std::vector<CopiedFrame> frames;
  EXPECT_EQ(read_all(*source, frames), ReadStatus::kEnd);
  ASSERT_EQ(frames.size(), static_cast<std::size_t>(kFrames / 2));
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i].data, frame_bytes(static_cast<int>(i) * 2));
}

TEST(DpdkSourceTest, BreakLoopEndsTheNextRead) {
  Status status;
  std::unique_ptr<PacketSource> source = open_dpdk_source(dpdk_config("2"), status);  // by index
  ASSERT_TRUE(source) << status.message();
  source->break_loop();
  std::array<RawFrame, 4> burst;
  ReadStatus read_status = ReadStatus::kFrames;
  EXPECT_EQ(source->read_burst(burst, read_status), 0u);
  EXPECT_EQ(read_status, ReadStatus::kEnd);
}

TEST(DpdkSourceTest, ADeviceWithoutRssGetsOneQueueAndOtherQueuesAreRefused) {
  CaptureConfig config = dpdk_config("net_pcap3");
  config.dpdk.rx_queues = 4;
  Status status;
  std::shared_ptr<DpdkPort> port = DpdkPort::open(config, status);
  ASSERT_TRUE(port) << status.message();
  EXPECT_EQ(port->rx_queues(), 1);
  EXPECT_FALSE(port->symmetric_rss());
  EXPECT_TRUE(port->offline_file());
  EXPECT_EQ(port->open_queues({1}, status), nullptr);
  EXPECT_NE(status.message().find("there is no queue 1"), std::string::npos) << status.message();
  std::unique_ptr<PacketSource> queue0 = port->open_queues({0}, status);
  ASSERT_TRUE(queue0) << status.message();
  std::vector<CopiedFrame> frames;
  EXPECT_EQ(read_all(*queue0, frames), ReadStatus::kEnd);
  EXPECT_EQ(frames.size(), static_cast<std::size_t>(kFrames));
  // One queue cannot be split among workers: they are fed in software.
  std::string why;
  EXPECT_TRUE(queue0->split_by_flow(2, why).empty());
  EXPECT_NE(why.find("has 1 RX queue(s) without symmetric RSS"), std::string::npos) << why;
}

TEST(DpdkSourceTest, AnUnknownPortIsAnError) {
  Status status;
  EXPECT_EQ(open_dpdk_source(dpdk_config("net_pcap9"), status), nullptr);
  EXPECT_NE(status.message().find("no DPDK port named 'net_pcap9'"), std::string::npos) << status.message();
  EXPECT_EQ(open_dpdk_source(dpdk_config("17"), status), nullptr);
  EXPECT_NE(status.message().find("no DPDK port 17"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace ipattrib::agent
