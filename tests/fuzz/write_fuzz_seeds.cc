// Writes the seed corpus of the HTTP, pcap file and IP address fuzz targets from the hand-written byte
// strings below (binary PROXY v2 headers included), so no binary files are
// checked in. Usage: write_fuzz_seeds OUT_DIR -> OUT_DIR/<target>/<n>.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string proxy_v2(unsigned char ver_cmd, unsigned char family, const std::string& body) {
  std::string out("\r\n\r\n\0\r\nQUIT\n", 12);
  out += static_cast<char>(ver_cmd);
  out += static_cast<char>(family);
  out += static_cast<char>(body.size() >> 8);
  out += static_cast<char>(body.size() & 0xff);
  return out + body;
}

std::string v4_body() { return std::string("\xc0\x00\x02\x01\x0a\x00\x00\x05\xc3\x50\x01\xbb", 12); }
std::string v6_body() { return std::string(15, '\0') + "\x01" + std::string(15, '\0') + "\x02" + "\x12\x34\x00\x50"; }

std::vector<std::string> proxy_seeds() {
  return {
      "PROXY TCP4 192.0.2.1 10.0.0.5 50000 443\r\n",
      "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\nGET / HTTP/1.1\r\n\r\n",
      "PROXY UNKNOWN\r\n",
      "PROXY TCP4 192.0.2.1 10.0.0.5 050000 443\r\n",
      proxy_v2(0x21, 0x11, v4_body()),
      proxy_v2(0x21, 0x21, v6_body()),
      proxy_v2(0x20, 0x00, ""),
      proxy_v2(0x21, 0x11, v4_body() + std::string("\x01\x00\x02h2\x04\x00\x01\x00", 9)),
      proxy_v2(0x21, 0x31, std::string(216, '\0')),
  };
}

std::vector<std::string> stream_bodies() {
  const std::string get = "GET /a HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer x\r\n\r\n";
  return {
      get + "GET /b HTTP/1.0\n\n",
      "POST /up HTTP/1.1\r\nContent-Length: 22\r\n\r\nGET /fake HTTP/1.1\r\n\r\n" + get,
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + get,
      "CONNECT db:5432 HTTP/1.1\r\n\r\n" + get,
      "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x80",
      "\r\n" + get + "junk line\r\n" + get,
      "OPTIONS * HTTP/1.1\r\nX: a\r\n folded\r\n\r\n" + get,
      "SSH-2.0-OpenSSH_9.2\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  };
}

// Classic pcap files for fuzz_pcap_file: every magic and byte order, a frame
// cut by the snaplen, a negative timestamp, and a file cut mid-record.
void put32(std::string& out, std::uint32_t v, bool big_endian) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (big_endian ? 8 * (3 - i) : 8 * i)));
}

std::string pcap_file(bool big_endian, bool nanoseconds, std::uint32_t snaplen, std::uint32_t linktype) {
  std::string out;
  put32(out, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, big_endian);
  put32(out, big_endian ? 0x00020004 : 0x00040002, big_endian);  // version 2.4
  put32(out, 0, big_endian);
  put32(out, 0, big_endian);
  put32(out, snaplen, big_endian);
  put32(out, linktype, big_endian);
  const std::string frames[] = {std::string(60, 'a'), std::string(120, 'b'), std::string(14, 'c')};
  std::uint32_t second = 1700000000;
  for (const std::string& frame : frames) {
    put32(out, second++, big_endian);
    put32(out, nanoseconds ? 999999999 : 999999, big_endian);
    put32(out, static_cast<std::uint32_t>(frame.size()), big_endian);
    put32(out, static_cast<std::uint32_t>(frame.size() + 10), big_endian);
    out += frame;
  }
  put32(out, 0xfffffff0, big_endian);  // a negative second
  put32(out, 5, big_endian);
  put32(out, 4, big_endian);
  put32(out, 4, big_endian);
  out += "dddd";
  return out;
}

std::vector<std::string> pcap_file_seeds() {
  std::vector<std::string> seeds;
  for (const bool big_endian : {false, true}) {
    for (const bool nanoseconds : {false, true}) seeds.push_back(pcap_file(big_endian, nanoseconds, 65535, 1));
  }
  seeds.push_back(pcap_file(false, false, 100, 113));  // the 120-byte frame cut to 100
  seeds.push_back(pcap_file(true, false, 0, 101));      // snaplen 0: libpcap's maximum
  seeds.push_back(pcap_file(false, true, 65535, 276).substr(0, 150));
  return seeds;
}

// fuzz_ip_address: "ADDRESS" or "ADDRESS OTHER".
std::vector<std::string> ip_address_seeds() {
  return {"192.0.2.1",
          "10.30.0.5 10.30.0.9",
          "0.0.0.0 255.255.255.255",
          "01.2.3.4",
          "1.2.3.256",
          std::string("1.2.3.4\0junk 1.2.3.5", 20),
          "2001:db8::1 2001:db8::ff",
          "fd00:30::5 fd00:31::5",
          "::ffff:10.0.0.1 10.0.0.1",
          "[2001:db8::1]",
          "fe80::1%eth0"};
}

bool write_seed(const std::filesystem::path& dir, int index, const std::string& bytes) {
  std::ofstream out(dir / ("seed-" + std::to_string(index)), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  const std::filesystem::path proxy_dir = root / "fuzz_proxy_protocol";
  const std::filesystem::path stream_dir = root / "fuzz_request_stream";
  const std::filesystem::path head_dir = root / "fuzz_request_head";
  const std::filesystem::path pcap_dir = root / "fuzz_pcap_file";
  const std::filesystem::path ip_dir = root / "fuzz_ip_address";
  std::error_code error;
  std::filesystem::create_directories(proxy_dir, error);
  std::filesystem::create_directories(stream_dir, error);
  std::filesystem::create_directories(head_dir, error);
  std::filesystem::create_directories(pcap_dir, error);
  std::filesystem::create_directories(ip_dir, error);
  int index = 0;
  bool ok = true;
  for (const std::string& seed : proxy_seeds()) ok = write_seed(proxy_dir, index++, seed) && ok;
  // Stream seeds: flags byte (see fuzz_request_stream.cc), split seed, bytes.
  index = 0;
  for (const std::string& body : stream_bodies()) {
    ok = write_seed(stream_dir, index++, std::string("\x00\x00", 2) + body) && ok;  // byte at a time
    ok = write_seed(stream_dir, index++, std::string("\x06\x11", 2) + body) && ok;  // small limits, gaps
  }
  for (const std::string& header : proxy_seeds()) {
    ok = write_seed(stream_dir, index++, std::string("\x01\x05", 2) + header + "GET / HTTP/1.1\r\n\r\n") && ok;
  }
  // Head seeds: limits byte, prefix-limit byte (see fuzz_request_head.cc), bytes.
  index = 0;
  for (const std::string& body : stream_bodies()) {
    ok = write_seed(head_dir, index++, std::string("\x07\xff", 2) + body) && ok;  // whole window
    ok = write_seed(head_dir, index++, std::string("\x13\x80", 2) + body) && ok;  // small limits, cut window
  }
  index = 0;
  for (const std::string& seed : pcap_file_seeds()) ok = write_seed(pcap_dir, index++, seed) && ok;
  index = 0;
  for (const std::string& seed : ip_address_seeds()) ok = write_seed(ip_dir, index++, seed) && ok;
  if (!ok) std::fprintf(stderr, "cannot write seeds under %s\n", root.c_str());
  return ok ? 0 : 1;
}
