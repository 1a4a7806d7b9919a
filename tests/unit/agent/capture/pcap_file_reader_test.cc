// The zero-copy pcap reader (mapped, chunked reads, and chunks of 7 bytes)
// against libpcap (PcapSource) on the same files: hand-written ones in every
// magic and byte order, files cut at every offset, randomly damaged record
// headers, every link-type number, and the third-party captures in
// ../shared/testdata/pcap when present.
#include "agent/capture/pcap_file_reader.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "agent/capture/pcap_file_format.h"
#include "agent/capture/packet_source_factory.h"
#include "agent/capture/pcap_source.h"
#include "tests/unit/agent/capture/pcap_bytes.h"
#include "tests/unit/agent/decode/frame_builder.h"

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;
using test::PcapFileSpec;
using test::PcapRecordSpec;
using test::ReadResult;

std::vector<std::uint8_t> tcp_frame(std::uint16_t dst_port, std::string_view payload) {
  test::Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, test::tcp_segment(40000, dst_port, payload));
  return f;
}

std::vector<std::uint8_t> udp_frame(std::uint16_t dst_port) {
  test::Frame udp;
  test::put16(udp, 5353);
  test::put16(udp, dst_port);
  test::put16(udp, 12);
  test::put16(udp, 0);
  test::put_text(udp, "dns?");
  test::Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, udp, 17);
  return f;
}

// Five records with the timestamps and lengths that differ between careless
// readers: a negative second, a fraction of a second at or above one second,
// a wire length above the captured one, and a frame longer than the snaplen.
PcapFileSpec five_records(bool big_endian, bool nanoseconds) {
  PcapFileSpec spec;
  spec.big_endian = big_endian;
  spec.nanoseconds = nanoseconds;
  spec.snaplen = 100;
  const std::uint32_t scale = nanoseconds ? 1000 : 1;
  spec.records = {
      {1700000000, 123456 * scale, tcp_frame(80, "GET / HTTP/1.1\r\n"), 0, -1},
      {0xfffffff0u, 999999 * scale + (nanoseconds ? 999 : 0), udp_frame(53), 1500, -1},
      {1700000001, nanoseconds ? 0xfffffc17u : 1000001u, tcp_frame(8080, "POST /x HTTP/1.1\r\n"), 0, -1},
      {1700000002, 7, tcp_frame(80, std::string(200, 'x')), 0, -1},  // cut to the snaplen
      {1700000003, 0, tcp_frame(80, "last"), 0, -1},
  };
  return spec;
}

class PcapFileReaderTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ignored;
    for (const fs::path& p : paths_) fs::remove(p, ignored);
  }
  fs::path path(const std::string& name) {
    return paths_.emplace_back(fs::temp_directory_path() /
                               ("ipattrib-pcap-reader-" + std::to_string(getpid()) + "-" + name));
  }
  // A new file each time: truncating one that has data makes ext4 flush it
  // on close (auto_da_alloc), which made a test writing hundreds take seconds.
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = path(name);
    std::error_code ignored;
    fs::remove(p, ignored);
    test::write_bytes(p, bytes);
    return p;
  }

 private:
  std::vector<fs::path> paths_;
};

ReadResult read_with_libpcap(const fs::path& file, const std::string& filter, std::size_t burst = 8) {
  Status status;
  std::unique_ptr<PacketSource> source = open_pcap_file(file.string(), filter, status);
  if (!source) {
    ADD_FAILURE() << "libpcap cannot open " << file << ": " << status.message();
    return {};
  }
  return test::drain(*source, burst);
}

// The reader's three ways to the bytes: mapped, chunked reads, and chunks of
// a few bytes so that records straddle every read boundary.
std::vector<PcapFileReadOptions> access_modes() {
  PcapFileReadOptions mapped;
  mapped.map = true;
  PcapFileReadOptions tiny;
  tiny.read_chunk_bytes = 7;
  return {mapped, PcapFileReadOptions{}, tiny};
}

// The same file read by every access mode, which must agree; returns the
// first reading.
ReadResult read_own(const fs::path& file, const std::string& filter, std::size_t burst = 8) {
  std::vector<ReadResult> results;
  for (const PcapFileReadOptions& options : access_modes()) {
    std::string why_not;
    std::unique_ptr<PacketSource> source = open_pcap_file_reader(file.string(), filter, why_not, options);
    if (!source) {
      ADD_FAILURE() << "own reader does not take " << file << ": " << why_not;
      return {};
    }
    results.push_back(test::drain(*source, burst));
  }
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].frames == results[0].frames) << file << " access mode " << i;
    EXPECT_EQ(results[i].last, results[0].last) << file << " access mode " << i;
    EXPECT_EQ(results[i].error, results[0].error) << file << " access mode " << i;
    EXPECT_EQ(results[i].counters, results[0].counters) << file << " access mode " << i;
  }
  return results[0];
}

// Same frames, same ending, same counters; an error names the file, the
// offset, and carries libpcap's own words.
void expect_same(const ReadResult& libpcap, const ReadResult& ours, const fs::path& file) {
  ASSERT_EQ(ours.frames.size(), libpcap.frames.size()) << file;
  for (std::size_t i = 0; i < ours.frames.size(); ++i) {
    EXPECT_EQ(ours.frames[i].ts_us, libpcap.frames[i].ts_us) << file << " frame " << i;
    EXPECT_EQ(ours.frames[i].wire_length, libpcap.frames[i].wire_length) << file << " frame " << i;
    EXPECT_TRUE(ours.frames[i].bytes == libpcap.frames[i].bytes) << file << " frame " << i;
  }
  EXPECT_EQ(ours.last, libpcap.last) << file << ": " << libpcap.error << " / " << ours.error;
  EXPECT_EQ(ours.counters, libpcap.counters) << file;
  if (libpcap.last == ReadStatus::kError) {
    EXPECT_NE(ours.error.find(libpcap.error), std::string::npos) << ours.error << " vs " << libpcap.error;
    EXPECT_NE(ours.error.find(file.string()), std::string::npos) << ours.error;
    EXPECT_NE(ours.error.find("byte offset"), std::string::npos) << ours.error;
  }
}

TEST(PcapFileHeaderTest, TakesTheFourMagicsInBothByteOrders) {
  for (const bool big_endian : {false, true}) {
    for (const bool nanoseconds : {false, true}) {
      PcapFileSpec spec;
      spec.big_endian = big_endian;
      spec.nanoseconds = nanoseconds;
      spec.snaplen = 1234;
      spec.linktype = 113;
      const std::string bytes = test::pcap_bytes(spec);
      std::string why;
      const auto format =
          parse_pcap_file_header({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, why);
      ASSERT_TRUE(format) << why;
      EXPECT_EQ(format->swapped, big_endian);  // this host is little-endian
      EXPECT_EQ(format->nanoseconds, nanoseconds);
      EXPECT_EQ(format->snapshot, 1234u);
      EXPECT_EQ(format->link_type, LinkType::kLinuxSll);
    }
  }
}

TEST(PcapFileHeaderTest, LeavesOtherFilesToLibpcapWithAReason) {
  auto why_not = [](const std::string& bytes) {
    std::string why;
    EXPECT_FALSE(parse_pcap_file_header({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, why));
    return why;
  };
  PcapFileSpec spec;
  const std::string good = test::pcap_bytes(spec);
  EXPECT_NE(why_not(good.substr(0, 23)).find("shorter"), std::string::npos);
  std::string pcapng = good;
  pcapng.replace(0, 4, "\x0a\x0d\x0d\x0a");
  EXPECT_NE(why_not(pcapng).find("0a0d0d0a"), std::string::npos);
  spec.version_minor = 3;
  EXPECT_NE(why_not(test::pcap_bytes(spec)).find("2.3"), std::string::npos);
  spec.version_minor = 4;
  spec.linktype = 0x10000001;  // FCS bits
  EXPECT_NE(why_not(test::pcap_bytes(spec)).find("FCS"), std::string::npos);
  spec.linktype = 105;  // 802.11
  EXPECT_NE(why_not(test::pcap_bytes(spec)).find("105"), std::string::npos);
}

// Every link-type number up to 300: the own reader takes a file exactly
// when libpcap opens it for the decoder, and maps it to the same LinkType.
TEST_F(PcapFileReaderTest, LinkTypesAreMappedAsLibpcapMapsThem) {
  int taken = 0;
  for (std::uint32_t linktype = 0; linktype <= 300; ++linktype) {
    PcapFileSpec spec;
    spec.linktype = linktype;
    const fs::path file = write("linktype.pcap", test::pcap_bytes(spec));
    Status status;
    std::unique_ptr<PacketSource> libpcap = open_pcap_file(file.string(), "", status);
    std::string why_not;
    std::unique_ptr<PacketSource> mapped = open_pcap_file_reader(file.string(), "", why_not);
    ASSERT_EQ(mapped != nullptr, libpcap != nullptr) << "linktype " << linktype << ": " << why_not;
    if (mapped) {
      EXPECT_EQ(mapped->link_type(), libpcap->link_type()) << "linktype " << linktype;
      ++taken;
    }
  }
  EXPECT_GE(taken, 9);  // Ethernet, SLL, SLL2, NULL, LOOP, raw IP x3, IPv4, IPv6
}

TEST_F(PcapFileReaderTest, SameFramesAsLibpcapInEveryMagicAndByteOrder) {
  for (const bool big_endian : {false, true}) {
    for (const bool nanoseconds : {false, true}) {
      const fs::path file = write("five.pcap", test::pcap_bytes(five_records(big_endian, nanoseconds)));
      const ReadResult libpcap = read_with_libpcap(file, "");
      ASSERT_EQ(libpcap.frames.size(), 5u);
      EXPECT_EQ(libpcap.frames[3].bytes.size(), 100u);  // the snaplen cut
      EXPECT_EQ(libpcap.last, ReadStatus::kEnd);
      for (const std::size_t burst : {1, 3, 64}) {
        SCOPED_TRACE(testing::Message() << "big_endian " << big_endian << " ns " << nanoseconds << " burst " << burst);
        expect_same(libpcap, read_own(file, "", burst), file);
      }
    }
  }
}

TEST_F(PcapFileReaderTest, FilterSelectsWhatLibpcapsFilterSelects) {
  const fs::path file = write("filter.pcap", test::pcap_bytes(five_records(true, false)));
  for (const std::string filter : {"tcp port 80", "udp", "len > 1000", "tcp[tcpflags] & tcp-syn != 0", "ip6"}) {
    SCOPED_TRACE(filter);
    const ReadResult libpcap = read_with_libpcap(file, filter);
    expect_same(libpcap, read_own(file, filter), file);
  }
  EXPECT_EQ(read_with_libpcap(file, "tcp port 80").frames.size(), 3u);

  // Raw IP (LINKTYPE_RAW 101, which libpcap compiles for DLT_RAW).
  PcapFileSpec raw;
  raw.linktype = 101;
  std::vector<std::uint8_t> ip = tcp_frame(80, "GET /raw HTTP/1.1\r\n");
  ip.erase(ip.begin(), ip.begin() + 14);
  // The second frame ends before the TCP ports: the filter cannot match it.
  raw.records = {{1, 0, ip, 0, -1}, {2, 0, std::vector<std::uint8_t>(ip.begin(), ip.begin() + 22), 0, -1}};
  const fs::path raw_file = write("raw.pcap", test::pcap_bytes(raw));
  const ReadResult libpcap = read_with_libpcap(raw_file, "tcp port 80");
  expect_same(libpcap, read_own(raw_file, "tcp port 80"), raw_file);
  EXPECT_EQ(libpcap.frames.size(), 1u);
}

TEST_F(PcapFileReaderTest, BadFilterIsLeftToLibpcap) {
  const fs::path file = write("bad-filter.pcap", test::pcap_bytes(five_records(false, false)));
  std::string why_not;
  EXPECT_FALSE(open_pcap_file_reader(file.string(), "tcp port eighty", why_not));
  EXPECT_NE(why_not.find("bad capture filter 'tcp port eighty'"), std::string::npos) << why_not;
}

// Cut after every byte: the whole records before the cut are delivered, then
// the same end (a cut on a record boundary) or error as libpcap's.
TEST_F(PcapFileReaderTest, FileCutAtEveryOffsetReadsLikeLibpcap) {
  for (const bool big_endian : {false, true}) {
    const std::string whole = test::pcap_bytes(five_records(big_endian, !big_endian));
    int errors = 0;
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
      SCOPED_TRACE(testing::Message() << "cut at " << cut);
      const fs::path file = write("cut.pcap", whole.substr(0, cut));
      if (cut < kPcapFileHeaderSize) {
        std::string why_not;
        EXPECT_FALSE(open_pcap_file_reader(file.string(), "", why_not));  // libpcap words a short header
        continue;
      }
      const ReadResult own_read = read_own(file, "", 4);
      expect_same(read_with_libpcap(file, ""), own_read, file);
      if (own_read.last == ReadStatus::kError) ++errors;
    }
    EXPECT_GT(errors, 0);
  }
}

// Random damage to record headers (lengths, timestamps) and random cuts,
// against libpcap: never a read out of bounds (the ASan build), always the
// same frames and ending.
TEST_F(PcapFileReaderTest, RandomlyDamagedFilesReadLikeLibpcap) {
  std::mt19937 random(7);
  const std::string whole = test::pcap_bytes(five_records(false, true));
  std::vector<std::size_t> header_offsets;
  for (std::size_t at = kPcapFileHeaderSize; at < whole.size();) {
    header_offsets.push_back(at);
    std::uint32_t stored;
    std::memcpy(&stored, whole.data() + at + 8, 4);
    at += kPcapRecordHeaderSize + stored;
  }
  for (int round = 0; round < 1000; ++round) {
    std::string damaged = whole;
    const int changes = 1 + static_cast<int>(random() % 3);
    for (int c = 0; c < changes; ++c) {
      const std::size_t header = header_offsets[random() % header_offsets.size()];
      const std::size_t at = header + random() % kPcapRecordHeaderSize;
      damaged[at] = static_cast<char>(random() % 4 == 0 ? 0xff : random());
    }
    if (random() % 2 == 0) damaged.resize(kPcapFileHeaderSize + random() % (damaged.size() - kPcapFileHeaderSize));
    SCOPED_TRACE(testing::Message() << "round " << round);
    const fs::path file = write("damaged.pcap", damaged);
    expect_same(read_with_libpcap(file, ""), read_own(file, "", 1 + round % 5), file);
  }
}

TEST_F(PcapFileReaderTest, CaplenAboveTheMaximumStopsWithLibpcapsError) {
  PcapFileSpec spec = five_records(false, false);
  spec.snaplen = 0;  // libpcap: the maximum
  spec.records[2].stored_length = kPcapMaximumSnaplen + 1;
  const fs::path file = write("huge-caplen.pcap", test::pcap_bytes(spec));
  const ReadResult libpcap = read_with_libpcap(file, "");
  const ReadResult mapped = read_own(file, "");
  expect_same(libpcap, mapped, file);
  EXPECT_EQ(mapped.frames.size(), 2u);
  EXPECT_EQ(mapped.last, ReadStatus::kError);
  EXPECT_NE(mapped.error.find("262145"), std::string::npos) << mapped.error;
}

// libpcap 1.10 keeps any snaplen from 1 to INT_MAX (records above it are
// cut) and takes 0 or a larger one as 262144; a record above 262144 is an
// error worded by whether it also exceeds the snaplen.
TEST_F(PcapFileReaderTest, SnaplenIsAdjustedAsLibpcapAdjustsIt) {
  for (const std::uint32_t snaplen : {0u, 1u, 100u, 262144u, 262145u, 300000u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    for (const std::uint32_t big : {200u, 262145u, 300001u}) {
      SCOPED_TRACE(testing::Message() << "snaplen " << snaplen << " record " << big);
      PcapFileSpec spec = five_records(false, false);
      spec.snaplen = snaplen;
      spec.records[1].bytes.resize(big, 0x5a);
      const fs::path file = write("snaplen.pcap", test::pcap_bytes(spec));
      expect_same(read_with_libpcap(file, ""), read_own(file, ""), file);
    }
  }
}

TEST_F(PcapFileReaderTest, BreakLoopEndsReadingMidFile) {
  const fs::path file = write("break.pcap", test::pcap_bytes(five_records(false, false)));
  std::string why_not;
  auto source = open_pcap_file_reader(file.string(), "", why_not);
  ASSERT_TRUE(source) << why_not;
  EXPECT_TRUE(source->replays_a_file());
  std::vector<RawFrame> burst(2);
  ReadStatus status = ReadStatus::kFrames;
  EXPECT_EQ(source->read_burst(burst, status), 2u);
  EXPECT_EQ(status, ReadStatus::kFrames);
  source->break_loop();
  EXPECT_EQ(source->read_burst(burst, status), 0u);
  EXPECT_EQ(status, ReadStatus::kEnd);
  EXPECT_EQ(source->read_burst(burst, status), 0u);
  EXPECT_EQ(status, ReadStatus::kEnd);
}

// The read-ahead thread starts with the first read, not at open: the agent
// opens its source before dropping privileges, and a thread started then
// would keep the per-thread ones (capabilities).
TEST_F(PcapFileReaderTest, ReadAheadThreadStartsAtTheFirstRead) {
  auto threads = [] {
    return std::distance(fs::directory_iterator("/proc/self/task"), fs::directory_iterator{});
  };
  // Many more 64-byte chunks than the thread's buffers, read one frame at a
  // time: when the threads are counted the thread is waiting for buffer room,
  // not done with the file (a file it could read to the end in one go made
  // it exit before the count, now and then).
  PcapFileSpec spec = five_records(false, false);
  const std::vector<test::PcapRecordSpec> five = spec.records;
  for (int i = 0; i < 20; ++i) spec.records.insert(spec.records.end(), five.begin(), five.end());
  const fs::path file = write("lazy.pcap", test::pcap_bytes(spec));
  PcapFileReadOptions options;
  options.read_chunk_bytes = 64;
  const auto before = threads();
  std::string why_not;
  auto source = open_pcap_file_reader(file.string(), "", why_not, options);
  ASSERT_TRUE(source) << why_not;
  EXPECT_EQ(threads(), before) << "no thread at open";
  std::vector<RawFrame> burst(1);
  ReadStatus status = ReadStatus::kFrames;
  EXPECT_GT(source->read_burst(burst, status), 0u);
  EXPECT_EQ(threads(), before + 1) << "the read-ahead thread, from the first read on";
  source.reset();
  EXPECT_EQ(threads(), before) << "and gone with the reader";
}

TEST_F(PcapFileReaderTest, StdinMissingAndNonPcapFilesAreLeftToLibpcap) {
  std::string why_not;
  EXPECT_FALSE(open_pcap_file_reader("-", "", why_not));
  EXPECT_EQ(why_not, "standard input");
  EXPECT_FALSE(open_pcap_file_reader(path("missing.pcap").string(), "", why_not));
  EXPECT_NE(why_not.find("cannot open"), std::string::npos) << why_not;
  EXPECT_FALSE(open_pcap_file_reader("/dev/null", "", why_not));
  EXPECT_EQ(why_not, "not a regular file");
  const fs::path text = write("text.pcap", "this is not a capture file, just some text that goes on\n");
  EXPECT_FALSE(open_pcap_file_reader(text.string(), "", why_not));
  EXPECT_NE(why_not.find("not a classic pcap file"), std::string::npos) << why_not;
}

// The factory: classic pcap through the zero-copy reader, chunked or mapped
// (which fills a burst; libpcap's source gives one frame per read),
// file_reader = libpcap forces libpcap, and what the own reader does not take still opens.
TEST_F(PcapFileReaderTest, FactoryPicksTheReader) {
  const fs::path file = write("factory.pcap", test::pcap_bytes(five_records(false, false)));
  CaptureConfig config;
  config.read_file = file.string();
  std::vector<RawFrame> burst(8);
  for (const FileReader reader : {FileReader::kAuto, FileReader::kMmap, FileReader::kLibpcap}) {
    config.file_reader = reader;
    Status status;
    std::unique_ptr<PacketSource> source = open_packet_source(config, status);
    ASSERT_TRUE(source) << status.message();
    ReadStatus read = ReadStatus::kFrames;
    EXPECT_EQ(source->read_burst(burst, read), reader == FileReader::kLibpcap ? 1u : 5u);
  }
  PcapFileSpec old = five_records(false, false);
  old.version_minor = 3;  // libpcap reads 2.3 (lengths maybe swapped); the own reader does not
  config.read_file = write("old.pcap", test::pcap_bytes(old)).string();
  config.file_reader = FileReader::kAuto;
  Status status;
  std::unique_ptr<PacketSource> source = open_packet_source(config, status);
  ASSERT_TRUE(source) << status.message();
  EXPECT_EQ(test::drain(*source, 8).frames.size(), 5u);
}

// Third-party captures: pcap files read the same through both readers;
// pcapng ones are not taken and still open through the factory.
TEST_F(PcapFileReaderTest, SharedCapturesReadLikeLibpcap) {
  const fs::path dir = fs::path(IPATTRIB_SOURCE_DIR) / "../shared/testdata/pcap";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no shared captures at " << dir << " (../shared absent)";
  int own_files = 0;
  int fallback_files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".pcap" && ext != ".pcapng" && ext != ".cap") continue;
    SCOPED_TRACE(entry.path().string());
    std::string why_not;
    std::unique_ptr<PacketSource> mapped = open_pcap_file_reader(entry.path().string(), "", why_not);
    if (!mapped) {
      ++fallback_files;
      CaptureConfig config;
      config.read_file = entry.path().string();
      Status status;
      auto source = open_packet_source(config, status);
      ASSERT_TRUE(source) << why_not << "; " << status.message();
      EXPECT_EQ(test::drain(*source, 16).counters, read_with_libpcap(entry.path(), "").counters);
      continue;
    }
    ++own_files;
    expect_same(read_with_libpcap(entry.path(), ""), read_own(entry.path(), "", 16), entry.path());
  }
  EXPECT_GT(own_files, 0);
  std::printf("shared captures: %d through the own reader, %d through libpcap\n", own_files, fallback_files);
}

}  // namespace
}  // namespace ipattrib::agent
