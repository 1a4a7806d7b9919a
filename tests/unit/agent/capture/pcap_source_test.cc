#include "agent/capture/pcap_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "agent/decode/packet_decoder.h"
#include "tests/unit/agent/decode/frame_builder.h"

namespace ipattrib::agent {
namespace {

namespace fs = std::filesystem;
using test::Frame;

class MapSink : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("ipattrib-capture-" + std::to_string(getpid()) + "-" + name);
}

Frame ethernet_tcp(std::uint16_t dst_port, std::string_view payload) {
  Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, test::tcp_segment(40000, dst_port, payload));
  return f;
}

Frame ethernet_udp(std::uint16_t dst_port) {
  Frame udp;
  test::put16(udp, 5353);
  test::put16(udp, dst_port);
  test::put16(udp, 12);
  test::put16(udp, 0);
  test::put_text(udp, "dns?");
  Frame f;
  test::ethernet(f, 0x0800);
  test::ipv4(f, udp, 17);
  return f;
}

struct TimedFrame {
  std::int64_t ts_us;
  Frame bytes;
};

// Writes a classic pcap file through libpcap itself.
void write_pcap(const fs::path& path, int dlt, const std::vector<TimedFrame>& frames) {
  pcap_t* dead = pcap_open_dead(dlt, 65535);
  ASSERT_NE(dead, nullptr);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(dumper, nullptr) << pcap_geterr(dead);
  for (const TimedFrame& f : frames) {
    pcap_pkthdr header{};
    header.ts.tv_sec = f.ts_us / 1000000;
    header.ts.tv_usec = f.ts_us % 1000000;
    header.caplen = static_cast<bpf_u_int32>(f.bytes.size());
    header.len = header.caplen;
    pcap_dump(reinterpret_cast<u_char*>(dumper), &header, f.bytes.data());
  }
  pcap_dump_close(dumper);
  pcap_close(dead);
}

std::vector<RawFrame> read_all(PacketSource& source, std::vector<Frame>& copies) {
  std::vector<RawFrame> frames;
  std::array<RawFrame, 8> burst;
  for (int guard = 0; guard < 10000; ++guard) {
    ReadStatus status = ReadStatus::kFrames;
    const std::size_t n = source.read_burst(burst, status);
    for (std::size_t i = 0; i < n; ++i) {
      // The view is only valid until the next read: keep a copy.
      copies.emplace_back(burst[i].data.begin(), burst[i].data.end());
      frames.push_back(burst[i]);
      frames.back().data = copies.back();
    }
    if (status == ReadStatus::kEnd || status == ReadStatus::kError) break;
  }
  return frames;
}

class PcapFileTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ignored;
    for (const fs::path& p : paths_) fs::remove(p, ignored);
  }
  fs::path path(const std::string& name) { return paths_.emplace_back(temp_path(name)); }

 private:
  std::vector<fs::path> paths_;
};

TEST_F(PcapFileTest, ReadsFramesTimestampsAndLinkType) {
  const fs::path file = path("three.pcap");
  const std::vector<TimedFrame> written = {
      {1700000000000001, ethernet_tcp(80, "GET / HTTP/1.1\r\n")},
      {1700000000500000, ethernet_udp(53)},
      {1700000001999999, ethernet_tcp(8080, "POST /x HTTP/1.1\r\n")},
  };
  write_pcap(file, DLT_EN10MB, written);

  Status status;
  std::unique_ptr<PacketSource> source = open_pcap_file(file.string(), "", status);
  ASSERT_TRUE(source) << status.message();
  EXPECT_EQ(source->link_type(), LinkType::kEthernet);
  EXPECT_TRUE(source->replays_a_file());
  std::vector<Frame> copies;
  const std::vector<RawFrame> frames = read_all(*source, copies);
  ASSERT_EQ(frames.size(), written.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].ts_us, written[i].ts_us) << i;
    EXPECT_EQ(copies[i], written[i].bytes) << i;
    EXPECT_EQ(frames[i].wire_length, written[i].bytes.size()) << i;
  }
  ReadStatus status_after_end = ReadStatus::kFrames;
  std::array<RawFrame, 1> one;
  EXPECT_EQ(source->read_burst(one, status_after_end), 0u);
  EXPECT_EQ(status_after_end, ReadStatus::kEnd);

  MapSink sink;
  source->report(sink);
  EXPECT_EQ(sink.values["capture.frames"], 3u);
  std::uint64_t bytes = 0;
  for (const TimedFrame& f : written) bytes += f.bytes.size();
  EXPECT_EQ(sink.values["capture.bytes"], bytes);
  EXPECT_EQ(sink.values.count("capture.kernel_drops"), 1u);
  EXPECT_EQ(sink.values.count("capture.interface_drops"), 1u);
}

TEST_F(PcapFileTest, FilterAppliesOffline) {
  const fs::path file = path("filtered.pcap");
  write_pcap(
      file, DLT_EN10MB,
      {{1, ethernet_tcp(80, "a")}, {2, ethernet_udp(53)}, {3, ethernet_tcp(8080, "b")}, {4, ethernet_tcp(80, "c")}});
  Status status;
  auto source = open_pcap_file(file.string(), "tcp port 80", status);
  ASSERT_TRUE(source) << status.message();
  std::vector<Frame> copies;
  const std::vector<RawFrame> frames = read_all(*source, copies);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].ts_us, 1);
  EXPECT_EQ(frames[1].ts_us, 4);
}

TEST_F(PcapFileTest, BadFilterIsAnErrorWithPcapsMessage) {
  const fs::path file = path("bad-filter.pcap");
  write_pcap(file, DLT_EN10MB, {{1, ethernet_tcp(80, "a")}});
  Status status;
  EXPECT_FALSE(open_pcap_file(file.string(), "tcp port eighty", status));
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("bad capture filter 'tcp port eighty'"), std::string::npos) << status.message();
}

TEST_F(PcapFileTest, LinkTypeOfTheFileIsMapped) {
  const fs::path file = path("sll2.pcap");
  write_pcap(file, DLT_LINUX_SLL2, {});
  Status status;
  auto source = open_pcap_file(file.string(), "", status);
  ASSERT_TRUE(source) << status.message();
  EXPECT_EQ(source->link_type(), LinkType::kLinuxSll2);
}

TEST_F(PcapFileTest, UnsupportedLinkTypeIsNamed) {
  const fs::path file = path("wifi.pcap");
  write_pcap(file, DLT_IEEE802_11, {});
  Status status;
  EXPECT_FALSE(open_pcap_file(file.string(), "", status));
  EXPECT_NE(status.message().find("IEEE802_11"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("DLT 105"), std::string::npos) << status.message();
}

TEST_F(PcapFileTest, MissingAndGarbageFilesAreErrors) {
  Status status;
  EXPECT_FALSE(open_pcap_file(temp_path("does-not-exist.pcap").string(), "", status));
  EXPECT_NE(status.message().find("does-not-exist.pcap"), std::string::npos) << status.message();

  const fs::path garbage = path("garbage.pcap");
  std::ofstream(garbage) << "this is not a capture file, just some text that goes on for a while\n";
  status = Status::ok();
  EXPECT_FALSE(open_pcap_file(garbage.string(), "", status));
  EXPECT_NE(status.message().find("garbage.pcap"), std::string::npos) << status.message();

  const fs::path empty = path("empty.pcap");
  std::ofstream{empty};
  status = Status::ok();
  EXPECT_FALSE(open_pcap_file(empty.string(), "", status));
}

// A capture file cut in the middle of a record reads its whole records, then
// reports an error rather than a short frame.
TEST_F(PcapFileTest, TruncatedFileReadsWholeRecordsThenFails) {
  const fs::path file = path("cut.pcap");
  write_pcap(file, DLT_EN10MB, {{1, ethernet_tcp(80, "first")}, {2, ethernet_tcp(80, "second")}});
  fs::resize_file(file, fs::file_size(file) - 5);
  Status status;
  auto source = open_pcap_file(file.string(), "", status);
  ASSERT_TRUE(source) << status.message();
  std::array<RawFrame, 4> burst;
  ReadStatus rs = ReadStatus::kFrames;
  EXPECT_EQ(source->read_burst(burst, rs), 1u);
  EXPECT_EQ(rs, ReadStatus::kFrames);
  EXPECT_EQ(source->read_burst(burst, rs), 0u);
  EXPECT_EQ(rs, ReadStatus::kError);
  EXPECT_FALSE(source->error().empty());
}

TEST_F(PcapFileTest, BreakLoopEndsReading) {
  const fs::path file = path("break.pcap");
  write_pcap(file, DLT_EN10MB, {{1, ethernet_tcp(80, "a")}, {2, ethernet_tcp(80, "b")}});
  Status status;
  auto source = open_pcap_file(file.string(), "", status);
  ASSERT_TRUE(source);
  source->break_loop();
  std::array<RawFrame, 4> burst;
  ReadStatus rs = ReadStatus::kFrames;
  EXPECT_EQ(source->read_burst(burst, rs), 0u);
  EXPECT_EQ(rs, ReadStatus::kEnd);
  EXPECT_EQ(source->read_burst(burst, rs), 0u);
  EXPECT_EQ(rs, ReadStatus::kEnd);
}

// pcapng written block by block (little-endian section): Section Header,
// Interface Description (Ethernet, default microsecond resolution), and one
// Enhanced Packet Block per frame.
void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_le16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v));
  out.push_back(static_cast<char>(v >> 8));
}

void write_pcapng(const fs::path& path, const std::vector<TimedFrame>& frames) {
  std::string out;
  put_le32(out, 0x0a0d0d0a);  // SHB
  put_le32(out, 28);
  put_le32(out, 0x1a2b3c4d);
  put_le16(out, 1);
  put_le16(out, 0);
  put_le32(out, 0xffffffff);  // section length unknown (-1, 64 bits)
  put_le32(out, 0xffffffff);
  put_le32(out, 28);
  put_le32(out, 1);  // IDB
  put_le32(out, 20);
  put_le16(out, 1);  // LINKTYPE_ETHERNET
  put_le16(out, 0);
  put_le32(out, 65535);
  put_le32(out, 20);
  for (const TimedFrame& f : frames) {
    const auto padded = static_cast<std::uint32_t>((f.bytes.size() + 3) / 4 * 4);
    const std::uint32_t total = 32 + padded;
    const auto ts = static_cast<std::uint64_t>(f.ts_us);
    put_le32(out, 6);  // EPB
    put_le32(out, total);
    put_le32(out, 0);  // interface 0
    put_le32(out, static_cast<std::uint32_t>(ts >> 32));
    put_le32(out, static_cast<std::uint32_t>(ts));
    put_le32(out, static_cast<std::uint32_t>(f.bytes.size()));
    put_le32(out, static_cast<std::uint32_t>(f.bytes.size()));
    out.append(f.bytes.begin(), f.bytes.end());
    out.append(padded - f.bytes.size(), '\0');
    put_le32(out, total);
  }
  std::ofstream(path, std::ios::binary) << out;
}

TEST_F(PcapFileTest, ReadsHandWrittenPcapng) {
  const fs::path file = path("two.pcapng");
  const std::vector<TimedFrame> written = {{1700000000654321, ethernet_tcp(80, "GET /a HTTP/1.1\r\n")},
                                           {1700000002000007, ethernet_tcp(80, "odd")}};
  write_pcapng(file, written);
  Status status;
  auto source = open_pcap_file(file.string(), "tcp", status);
  ASSERT_TRUE(source) << status.message();
  EXPECT_EQ(source->link_type(), LinkType::kEthernet);
  std::vector<Frame> copies;
  const std::vector<RawFrame> frames = read_all(*source, copies);
  ASSERT_EQ(frames.size(), 2u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].ts_us, written[i].ts_us);
    EXPECT_EQ(copies[i], written[i].bytes);
  }
  PacketView view;
  ASSERT_EQ(decode_tcp_segment(source->link_type(), frames[1], view), DecodeResult::kTcpSegment);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(view.payload.data()), view.payload.size()), "odd");
}

TEST(PcapLiveTest, MissingInterfaceIsAnError) {
  CaptureConfig config;
  config.interface = "ipattrib-no-such-if0";
  Status status;
  EXPECT_FALSE(open_pcap_live(config, status));
  EXPECT_NE(status.message().find("ipattrib-no-such-if0"), std::string::npos) << status.message();
  config.interface.clear();
  EXPECT_FALSE(open_pcap_live(config, status));
}

// Sends UDP datagrams and one TCP request over 127.0.0.1 and finds them in a
// live capture on `lo` filtered to this test's port. Needs CAP_NET_RAW.
TEST(PcapLiveTest, CapturesLoopbackTrafficThroughAFilter) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port; UDP reuses its number
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t addr_length = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_length), 0);
  const std::uint16_t port = ntohs(addr.sin_port);

  CaptureConfig config;
  config.interface = "lo";
  config.filter = "port " + std::to_string(port);
  config.buffer_size_bytes = 1 << 20;
  Status status;
  std::unique_ptr<PacketSource> source = open_pcap_live(config, status);
  if (!source) {
    close(listener);
    GTEST_SKIP() << "cannot capture on lo (needs root or CAP_NET_RAW): " << status.message();
  }
  EXPECT_FALSE(source->replays_a_file());

  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(udp, 0);
  for (int i = 0; i < 3; ++i) {
    const std::string datagram = "ipattrib-live-" + std::to_string(i);
    ASSERT_EQ(sendto(udp, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              static_cast<ssize_t>(datagram.size()));
  }
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /live HTTP/1.1\r\nHost: lo\r\n\r\n";
  ASSERT_EQ(send(client, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));

  PacketDecoder decoder;
  int udp_frames = 0;
  bool saw_syn = false;
  bool saw_request = false;
  std::array<RawFrame, 4> burst;
  // Bounded by read count, not time: each empty read waits one read timeout.
  for (int reads = 0; reads < 200 && !(udp_frames >= 3 && saw_syn && saw_request); ++reads) {
    ReadStatus rs = ReadStatus::kFrames;
    const std::size_t n = source->read_burst(burst, rs);
    ASSERT_NE(rs, ReadStatus::kError) << source->error();
    for (std::size_t i = 0; i < n; ++i) {
      PacketView view;
      if (!decoder.decode(source->link_type(), burst[i], view)) {
        ++udp_frames;  // the filter lets only our port through
        continue;
      }
      EXPECT_EQ(view.src.to_string(), "127.0.0.1");
      if (view.dst_port == port && (view.tcp_flags & kTcpSyn) != 0) saw_syn = true;
      const std::string_view payload(reinterpret_cast<const char*>(view.payload.data()), view.payload.size());
      if (view.dst_port == port && payload == request) saw_request = true;
    }
  }
  close(client);
  close(udp);
  close(listener);
  EXPECT_GE(udp_frames, 3);
  EXPECT_EQ(decoder.count(DecodeResult::kNotTcp), static_cast<std::uint64_t>(udp_frames));
  EXPECT_TRUE(saw_syn);
  EXPECT_TRUE(saw_request);

  MapSink sink;
  source->report(sink);
  EXPECT_GE(sink.values["capture.frames"], 5u);
  EXPECT_GT(sink.values["capture.bytes"], 0u);
  EXPECT_EQ(sink.values.count("capture.kernel_drops"), 1u);
  EXPECT_EQ(sink.values.count("capture.interface_drops"), 1u);

  source->break_loop();
  ReadStatus rs = ReadStatus::kFrames;
  EXPECT_EQ(source->read_burst(burst, rs), 0u);
  EXPECT_EQ(rs, ReadStatus::kEnd);
}

}  // namespace
}  // namespace ipattrib::agent
