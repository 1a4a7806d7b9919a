// The zero-copy pcap reader (mapped, chunked, tiny chunks) on the traffic
// generator's capture (the file the
// benchmarks read) and on its nanosecond and big-endian rewrites: the same
// frames as libpcap, with and without a filter, in bursts of any size.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "agent/capture/pcap_file_reader.h"
#include "agent/capture/pcap_source.h"
#include "bench/generator/capture_generator.h"
#include "tests/unit/agent/capture/pcap_bytes.h"

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;

class PcapFileReaderGeneratedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("ipattrib-pcap-reader-gen-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    bench::GeneratorOptions options;
    options.pcap_path = (dir_ / "gen.pcap").string();
    options.requests = 400;
    options.seed = 3;
    bench::GeneratorSummary summary;
    const Status status = bench::generate_capture(options, summary);
    ASSERT_TRUE(status.is_ok()) << status.message();
    packets_ = summary.packets;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // The generated file's records in another byte order / resolution, read
  // back through libpcap so the rewrite does not share code with the reader.
  static fs::path rewrite(bool big_endian, bool nanoseconds) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* pcap = pcap_open_offline((dir_ / "gen.pcap").c_str(), errbuf);
    EXPECT_NE(pcap, nullptr) << errbuf;
    if (pcap == nullptr) return {};
    test::PcapFileSpec spec;
    spec.big_endian = big_endian;
    spec.nanoseconds = nanoseconds;
    spec.snaplen = static_cast<std::uint32_t>(pcap_snapshot(pcap));
    spec.linktype = static_cast<std::uint32_t>(pcap_datalink(pcap));
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* data = nullptr;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
      const auto fraction = static_cast<std::uint32_t>(header->ts.tv_usec * (nanoseconds ? 1000 : 1));
      spec.records.push_back({static_cast<std::uint32_t>(header->ts.tv_sec), fraction,
                              std::vector<std::uint8_t>(data, data + header->caplen), header->len, -1});
    }
    pcap_close(pcap);
    const fs::path out = dir_ / ("gen-" + std::to_string(big_endian) + std::to_string(nanoseconds) + ".pcap");
    test::write_bytes(out, test::pcap_bytes(spec));
    return out;
  }

  static inline fs::path dir_;
  static inline std::uint64_t packets_ = 0;
};

// mode: 0 libpcap, 1 mapped, 2 chunked reads, 3 chunks of 1000 bytes.
test::ReadResult read(const fs::path& file, const std::string& filter, int mode, std::size_t burst) {
  Status status;
  std::string why_not;
  PcapFileReadOptions options;
  options.map = mode == 1;
  if (mode == 3) options.read_chunk_bytes = 1000;
  std::unique_ptr<PacketSource> source = mode != 0 ? open_pcap_file_reader(file.string(), filter, why_not, options)
                                                   : open_pcap_file(file.string(), filter, status);
  if (!source) {
    ADD_FAILURE() << file << ": " << why_not << status.message();
    return {};
  }
  return test::drain(*source, burst);
}

TEST_F(PcapFileReaderGeneratedTest, SameFramesAsLibpcap) {
  const test::ReadResult libpcap = read(dir_ / "gen.pcap", "", 0, 1);
  ASSERT_EQ(libpcap.frames.size(), packets_);
  ASSERT_GT(packets_, 1000u);
  EXPECT_EQ(libpcap.last, ReadStatus::kEnd);
  const std::vector<fs::path> files = {dir_ / "gen.pcap", rewrite(false, true), rewrite(true, false),
                                       rewrite(true, true)};
  for (const fs::path& file : files) {
    for (const auto& [mode, burst] : {std::pair{1, 1}, std::pair{1, 64}, std::pair{2, 64}, std::pair{3, 7}}) {
      SCOPED_TRACE(testing::Message() << file << " mode " << mode << " burst " << burst);
      const test::ReadResult mapped = read(file, "", mode, burst);
      EXPECT_EQ(mapped.last, ReadStatus::kEnd);
      EXPECT_EQ(mapped.counters, libpcap.counters);
      ASSERT_EQ(mapped.frames.size(), libpcap.frames.size());
      for (std::size_t i = 0; i < mapped.frames.size(); ++i) {
        if (!(mapped.frames[i] == libpcap.frames[i])) {
          ADD_FAILURE() << "frame " << i << " differs";
          break;
        }
      }
    }
  }
}

TEST_F(PcapFileReaderGeneratedTest, FilteredLikeLibpcap) {
  const fs::path file = dir_ / "gen.pcap";
  for (const std::string filter : {"vlan", "ip6 and tcp", "tcp[tcpflags] & tcp-syn != 0"}) {
    SCOPED_TRACE(filter);
    const test::ReadResult libpcap = read(file, filter, 0, 1);
    EXPECT_GT(libpcap.frames.size(), 0u);
    EXPECT_LT(libpcap.frames.size(), packets_);
    for (const int mode : {1, 2, 3}) {
      const test::ReadResult mapped = read(file, filter, mode, 64);
      EXPECT_TRUE(mapped.frames == libpcap.frames) << "mode " << mode;
      EXPECT_EQ(mapped.counters, libpcap.counters) << "mode " << mode;
    }
  }
}

}  // namespace
}  // namespace ipattrib::agent
