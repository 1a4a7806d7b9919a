// Writes the seed corpus of fuzz_packet_path (frame sequences, see
// frame_sequence.h) into OUT_DIR/fuzz_packet_path from three sources:
//   - hand-built raw IPv4 connections: PROXY v1 on the PROXY port, forwarding
//     headers from a trusted peer, each account carrier, reordering, more
//     flows than the tight table holds (always written, so the replay test
//     never runs empty);
//   - a small capture from the traffic generator (fixed seed), when built
//     with it (IPATTRIB_HAVE_CAPTURE_GENERATOR);
//   - the frames of every *.pcap in PCAP_DIR (default: ../shared/testdata/pcap
//     beside the source tree), when that folder exists (read with libpcap).
// Long captures are cut into several seeds of consecutive frames, each small
// enough to keep libFuzzer's executions fast. Usage: OUT_DIR [PCAP_DIR].
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "agent/capture/pcap_link_type.h"
#include "tests/fuzz/frame_sequence.h"

#ifdef IPATTRIB_HAVE_CAPTURE_GENERATOR
#include "bench/generator/capture_generator.h"
#endif

namespace {

using ipattrib::agent::LinkType;
using ipattrib::fuzz::append_frame_record;

constexpr std::size_t kMaxSeedBytes = 12288;
constexpr std::size_t kMaxSeedFrames = 40;
constexpr int kMaxSeedsPerCapture = 6;

struct Frame {
  std::vector<std::uint8_t> bytes;
  std::int64_t ts_us = 0;
  bool snap_cut = false;
};

class SeedDirectory {
 public:
  explicit SeedDirectory(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool write(const std::string& name, const std::string& bytes) {
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ok_ = static_cast<bool>(out) && ok_;
    ++written_;
    return ok_;
  }
  bool ok() const { return ok_; }
  int written() const { return written_; }

 private:
  std::filesystem::path dir_;
  bool ok_ = true;
  int written_ = 0;
};

std::uint8_t time_steps(std::int64_t from_us, std::int64_t to_us) {
  const std::int64_t steps = (to_us - from_us) / ipattrib::fuzz::kTimeStepUs;
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(steps, 0, ipattrib::fuzz::kMaxTimeSteps));
}

// Cuts `frames` into seeds of consecutive frames; alternates tight and roomy
// flow bounds, and frame by frame with bursts of several sizes, so every
// config and both entry points start from real traffic.
void write_capture_seeds(SeedDirectory& out, const std::string& name, LinkType link_type,
                         const std::vector<Frame>& frames) {
  std::size_t at = 0;
  for (int piece = 0; piece < kMaxSeedsPerCapture && at < frames.size(); ++piece) {
    const bool roomy = piece % 2 == 1;
    const bool bursts = piece % 4 >= 2;
    const auto feed_bits = static_cast<std::uint8_t>((piece * 3 % 8) << 5);
    std::string seed(1, static_cast<char>(static_cast<std::uint8_t>(link_type) |
                                          (roomy ? ipattrib::fuzz::kRoomyBoundsFlag : 0) |
                                          (bursts ? ipattrib::fuzz::kBurstFlag | feed_bits : 0)));
    std::int64_t previous_us = frames[at].ts_us;
    for (std::size_t n = 0; at < frames.size() && n < kMaxSeedFrames; ++n, ++at) {
      if (n > 0 && seed.size() + frames[at].bytes.size() > kMaxSeedBytes) break;
      append_frame_record(seed, frames[at].bytes, time_steps(previous_us, frames[at].ts_us), frames[at].snap_cut);
      previous_us = frames[at].ts_us;
    }
    out.write(name + "-" + std::to_string(piece), seed);
  }
}

// Frames of a pcap file and its link type; nullopt when libpcap cannot read
// it or the decoder does not know its link type.
std::optional<LinkType> read_pcap(const std::string& path, std::vector<Frame>& frames) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_open_offline(path.c_str(), error);
  if (pcap == nullptr) {
    std::fprintf(stderr, "skipping %s: %s\n", path.c_str(), error);
    return std::nullopt;
  }
  const std::optional<LinkType> link_type = ipattrib::agent::link_type_from_dlt(pcap_datalink(pcap));
  pcap_pkthdr* header = nullptr;
  const std::uint8_t* data = nullptr;
  while (link_type && pcap_next_ex(pcap, &header, &data) == 1) {
    Frame frame;
    frame.bytes.assign(data, data + header->caplen);
    frame.ts_us = std::int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
    frame.snap_cut = header->len > header->caplen;
    frames.push_back(std::move(frame));
  }
  pcap_close(pcap);
  return link_type;
}

void write_pcap_dir_seeds(SeedDirectory& out, const std::filesystem::path& dir) {
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".pcap") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::vector<Frame> frames;
    const std::optional<LinkType> link_type = read_pcap(file.string(), frames);
    if (link_type && !frames.empty()) write_capture_seeds(out, "pcap-" + file.stem().string(), *link_type, frames);
  }
}

#ifdef IPATTRIB_HAVE_CAPTURE_GENERATOR
bool write_generator_seeds(SeedDirectory& out, const std::filesystem::path& scratch) {
  std::error_code error;
  std::filesystem::create_directories(scratch, error);
  ipattrib::bench::GeneratorOptions options;
  options.pcap_path = (scratch / "generated.pcap").string();
  options.requests = 30;
  options.seed = 7;
  ipattrib::bench::GeneratorSummary summary;
  const ipattrib::Status status = ipattrib::bench::generate_capture(options, summary);
  std::vector<Frame> frames;
  std::optional<LinkType> link_type;
  if (status) link_type = read_pcap(options.pcap_path, frames);
  std::filesystem::remove_all(scratch, error);
  if (!status || !link_type || frames.empty()) {
    std::fprintf(stderr, "generator capture unusable: %s\n", status ? "no frames" : status.message().c_str());
    return false;
  }
  write_capture_seeds(out, "generated", *link_type, frames);
  return true;
}
#endif

// Raw IPv4 + TCP frames of hand-written connections (no checksums: the
// decoder does not verify them).
class ConnectionWriter {
 public:
  ConnectionWriter(std::uint32_t client, std::uint16_t client_port, std::uint32_t server, std::uint16_t server_port)
      : client_(client), server_(server), client_port_(client_port), server_port_(server_port) {}

  void open(std::string& seed) {
    add(seed, true, 0x02, client_seq_++, "");
    add(seed, false, 0x12, server_seq_++, "");
    add(seed, true, 0x10, client_seq_, "");
  }
  // Client bytes in `pieces` segments, the first two swapped when `reorder`.
  void send(std::string& seed, const std::string& bytes, std::size_t pieces, bool reorder) {
    const std::size_t step = (bytes.size() + pieces - 1) / pieces;
    std::vector<std::pair<std::uint32_t, std::string>> segments;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
      segments.emplace_back(client_seq_ + static_cast<std::uint32_t>(at), bytes.substr(at, step));
    }
    if (reorder && segments.size() > 1) std::swap(segments[0], segments[1]);
    for (const auto& [seq, text] : segments) add(seed, true, 0x18, seq, text);
    client_seq_ += static_cast<std::uint32_t>(bytes.size());
    add(seed, false, 0x18, server_seq_, "HTTP/1.1 204 No Content\r\n\r\n");
    server_seq_ += 27;
  }
  void close(std::string& seed) {
    add(seed, true, 0x11, client_seq_++, "");
    add(seed, false, 0x11, server_seq_++, "");
  }

 private:
  void add(std::string& seed, bool from_client, std::uint8_t flags, std::uint32_t seq, const std::string& payload) {
    std::vector<std::uint8_t> f(40, 0);
    const std::size_t total = f.size() + payload.size();
    f[0] = 0x45;
    f[2] = static_cast<std::uint8_t>(total >> 8);
    f[3] = static_cast<std::uint8_t>(total);
    f[8] = 64;
    f[9] = 6;
    put32(f, 12, from_client ? client_ : server_);
    put32(f, 16, from_client ? server_ : client_);
    put16(f, 20, from_client ? client_port_ : server_port_);
    put16(f, 22, from_client ? server_port_ : client_port_);
    put32(f, 24, seq);
    put32(f, 28, from_client ? server_seq_ : client_seq_);
    f[32] = 0x50;
    f[33] = flags;
    put16(f, 34, 65535);
    f.insert(f.end(), payload.begin(), payload.end());
    append_frame_record(seed, f, 1, false);
  }
  static void put16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v);
  }
  static void put32(std::vector<std::uint8_t>& f, std::size_t at, std::uint32_t v) {
    put16(f, at, static_cast<std::uint16_t>(v >> 16));
    put16(f, at + 2, static_cast<std::uint16_t>(v));
  }

  std::uint32_t client_;
  std::uint32_t server_;
  std::uint16_t client_port_;
  std::uint16_t server_port_;
  std::uint32_t client_seq_ = 1000;
  std::uint32_t server_seq_ = 9000;
};

constexpr std::uint32_t ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}

std::vector<std::string> handmade_sequences() {
  const std::uint32_t server = ipv4(10, 0, 0, 1);
  const std::string jwt = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhY2NvdW50IjoiYWNjdC00MiIsInN1YiI6ImFsaWNlIn0.sig";
  const std::string requests[] = {
      "GET /v1/accounts/acct-7/servers HTTP/1.1\r\nHost: api.example\r\n\r\n",
      "POST /admin/users?account=acct-8 HTTP/1.1\r\nHost: api.example\r\nContent-Length: 5\r\n\r\nhello",
      "GET /me HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer " + jwt + "\r\n\r\n",
      "DELETE /x HTTP/1.1\r\nX-Account-Id: acct-9\r\nX-Forwarded-For: 198.51.100.4, 10.0.0.3\r\n\r\n",
      "GET /f HTTP/1.1\r\nForwarded: for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.4\r\nX-Real-IP: 203.0.113.9\r\n\r\n",
  };
  std::vector<std::string> out;

  std::string proxied;  // PROXY v1 from a trusted load balancer, then headers
  ConnectionWriter lb(ipv4(10, 0, 0, 9), 40001, server, 8443);
  lb.open(proxied);
  lb.send(proxied, "PROXY TCP4 10.0.0.2 10.0.0.1 51000 8443\r\n" + requests[3] + requests[0], 3, false);
  lb.close(proxied);
  out.push_back(proxied);

  std::string trusted;  // forwarding headers from a trusted peer, reordered
  ConnectionWriter peer(ipv4(10, 0, 0, 2), 40002, server, 80);
  peer.open(trusted);
  for (const std::string& request : requests) peer.send(trusted, request, 2, true);
  peer.close(trusted);
  out.push_back(trusted);

  std::string crowd;  // more concurrent flows than the tight table holds
  std::vector<ConnectionWriter> clients;
  for (std::uint8_t i = 0; i < 7; ++i) clients.emplace_back(ipv4(192, 0, 2, 10 + i), 50000 + i, server, 8080);
  for (auto& client : clients) client.open(crowd);
  for (std::size_t i = 0; i < clients.size(); ++i) clients[i].send(crowd, requests[i % 5], 1 + i % 3, i % 2 == 1);
  for (auto& client : clients) client.close(crowd);
  out.push_back(crowd);
  return out;
}

void write_handmade_seeds(SeedDirectory& out) {
  int index = 0;
  for (const std::string& frames : handmade_sequences()) {
    const auto raw = static_cast<char>(LinkType::kIpv4);
    out.write("handmade-" + std::to_string(index++), std::string(1, raw) + frames);
    out.write("handmade-" + std::to_string(index++),
              std::string(1, static_cast<char>(raw | ipattrib::fuzz::kRoomyBoundsFlag)) + frames);
    out.write("handmade-" + std::to_string(index++),
              std::string(1, static_cast<char>(raw | ipattrib::fuzz::kBurstFlag | (7 << 5))) + frames);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [PCAP_DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::path(argv[1]) / "fuzz_packet_path";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  SeedDirectory out(dir);
  write_handmade_seeds(out);
  bool ok = true;
#ifdef IPATTRIB_HAVE_CAPTURE_GENERATOR
  ok = write_generator_seeds(out, std::filesystem::path(argv[1]) / ".packet_path_generator");
#endif
  const std::filesystem::path pcap_dir = argc == 3 ? argv[2] : IPATTRIB_SOURCE_DIR "/../shared/testdata/pcap";
  if (std::filesystem::is_directory(pcap_dir, error)) write_pcap_dir_seeds(out, pcap_dir);
  if (!out.ok()) std::fprintf(stderr, "cannot write seeds under %s\n", dir.c_str());
  std::printf("wrote %d seeds to %s\n", out.written(), dir.c_str());
  return ok && out.ok() ? 0 : 1;
}
