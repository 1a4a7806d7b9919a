// Every capture in the shared third-party corpus goes through PcapSource and
// the decoder: no frame may be left unaccounted for, and the corpus (HTTP
// captures) must yield TCP segments.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/capture/pcap_source.h"
#include "agent/decode/packet_decoder.h"

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;

class MapSink : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

std::vector<fs::path> corpus_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".pcap") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(PcapCorpusTest, EveryFrameIsDecodedOrCountedByReason) {
  const fs::path dir = fs::path(IPATTRIB_SOURCE_DIR "/../shared/testdata/pcap");
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no shared pcap corpus at " << dir << " (only in the dev workspace)";
  const std::vector<fs::path> files = corpus_files(dir);
  ASSERT_FALSE(files.empty()) << "no *.pcap in " << dir;

  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    Status status;
    std::unique_ptr<PacketSource> source = open_pcap_file(file.string(), "", status);
    ASSERT_TRUE(source) << status.message();
    PacketDecoder decoder;
    std::array<RawFrame, 16> burst;
    for (;;) {
      ReadStatus rs = ReadStatus::kFrames;
      const std::size_t n = source->read_burst(burst, rs);
      for (std::size_t i = 0; i < n; ++i) {
        PacketView view;
        if (decoder.decode(source->link_type(), burst[i], view)) {
          ASSERT_GE(view.payload.data(), burst[i].data.data());
          ASSERT_LE(view.payload.data() + view.payload.size(), burst[i].data.data() + burst[i].data.size());
        }
      }
      if (rs == ReadStatus::kEnd) break;
      // A corpus file cut mid-record ends in an error after its whole records.
      if (rs == ReadStatus::kError) {
        ADD_FAILURE() << "read error: " << source->error();
        break;
      }
    }
    MapSink capture;
    source->report(capture);
    MapSink decode;
    decoder.report(decode);
    std::uint64_t accounted = 0;
    for (const auto& [name, value] : decode.values) {
      if (name != "decode.frames") accounted += value;
    }
    EXPECT_EQ(decode.values["decode.frames"], capture.values["capture.frames"]);
    EXPECT_EQ(accounted, decode.values["decode.frames"]);
    EXPECT_GT(decode.values["decode.tcp_segments"], 0u);
  }
}

}  // namespace
}  // namespace ipattrib::agent
