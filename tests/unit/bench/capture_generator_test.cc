#include "bench/generator/capture_generator.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ipattrib::bench {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
    fields.push_back(line.substr(start, tab - start));
  }
  fields.push_back(line.substr(start));
  return fields;
}

class CaptureGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ipattrib-gen-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  GeneratorOptions options(const std::string& name, std::uint64_t requests, std::uint64_t seed) {
    GeneratorOptions o;
    o.pcap_path = (dir_ / (name + ".pcap")).string();
    o.truth_path = (dir_ / (name + ".tsv")).string();
    o.config_path = (dir_ / (name + ".toml")).string();
    o.keys_path = (dir_ / (name + "-keys.tsv")).string();
    o.requests = requests;
    o.seed = seed;
    return o;
  }

  fs::path dir_;
};

TEST_F(CaptureGeneratorTest, LibpcapReadsEveryReportedPacket) {
  const GeneratorOptions o = options("a", 500, 1);
  GeneratorSummary summary;
  ASSERT_TRUE(generate_capture(o, summary).is_ok());
  EXPECT_EQ(summary.requests, 500u);
  ASSERT_GT(summary.packets, 500u);

  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(o.pcap_path.c_str(), errbuf);
  ASSERT_NE(pcap, nullptr) << errbuf;
  EXPECT_EQ(pcap_datalink(pcap), DLT_EN10MB);
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(pcap, &header, &data)) == 1) {
    ++packets;
    bytes += header->caplen;
    EXPECT_EQ(header->caplen, header->len);
    EXPECT_LT(header->ts.tv_usec, 1000000);
  }
  EXPECT_EQ(rc, PCAP_ERROR_BREAK);  // clean end of file, not a truncated record
  pcap_close(pcap);
  EXPECT_EQ(packets, summary.packets);
  EXPECT_EQ(bytes, summary.bytes);
}

TEST_F(CaptureGeneratorTest, GroundTruthHasOneRowPerRequest) {
  const GeneratorOptions o = options("t", 777, 5);
  GeneratorSummary summary;
  ASSERT_TRUE(generate_capture(o, summary).is_ok());
  const std::vector<std::string> lines = read_lines(o.truth_path);
  ASSERT_EQ(lines.size(), 777u + 1);
  EXPECT_EQ(lines[0],
            "ts_us\tclient_ip\tpeer_ip\tpeer_port\tserver_ip\tserver_port\tmethod\thost\ttarget\taccount\tprincipal\tclass");
  long long previous_ts = 0;
  bool saw_proxy = false, saw_v6 = false, saw_no_account = false, saw_principal = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = split_tabs(lines[i]);
    ASSERT_EQ(f.size(), 12u) << lines[i];
    const long long ts = std::stoll(f[0]);
    EXPECT_GE(ts, previous_ts) << "rows are in capture order";
    previous_ts = ts;
    EXPECT_TRUE(f[11] == "admin" || f[11] == "access") << lines[i];
    const bool admin_method = f[6] != "GET" && f[6] != "HEAD" && f[6] != "OPTIONS";
    EXPECT_EQ(f[11] == "admin", admin_method) << lines[i];
    EXPECT_TRUE(f[9] == "-" || f[9].rfind("acct-", 0) == 0) << lines[i];
    if (f[2] == "10.30.0.5" || f[2] == "fd00:30::5") {
      saw_proxy = true;
      EXPECT_NE(f[1], f[2]) << "a proxied request is attributed to the client behind the proxy";
    } else {
      EXPECT_EQ(f[1], f[2]) << "a direct request is attributed to its socket peer";
    }
    saw_v6 |= f[1].find(':') != std::string::npos;
    saw_no_account |= f[9] == "-";
    saw_principal |= f[10] != "-";
  }
  EXPECT_TRUE(saw_proxy);
  EXPECT_TRUE(saw_v6);
  EXPECT_TRUE(saw_no_account);
  EXPECT_TRUE(saw_principal);
}

TEST_F(CaptureGeneratorTest, SameSeedGivesIdenticalFiles) {
  const GeneratorOptions a = options("a", 400, 42);
  const GeneratorOptions b = options("b", 400, 42);
  GeneratorSummary sa, sb;
  ASSERT_TRUE(generate_capture(a, sa).is_ok());
  ASSERT_TRUE(generate_capture(b, sb).is_ok());
  EXPECT_EQ(read_file(a.pcap_path), read_file(b.pcap_path));
  EXPECT_EQ(read_file(a.truth_path), read_file(b.truth_path));
  EXPECT_EQ(read_file(a.keys_path), read_file(b.keys_path));
  EXPECT_EQ(sa.packets, sb.packets);
}

TEST_F(CaptureGeneratorTest, DifferentSeedsGiveDifferentTraffic) {
  const GeneratorOptions a = options("a", 400, 1);
  const GeneratorOptions b = options("b", 400, 2);
  GeneratorSummary sa, sb;
  ASSERT_TRUE(generate_capture(a, sa).is_ok());
  ASSERT_TRUE(generate_capture(b, sb).is_ok());
  EXPECT_NE(read_file(a.pcap_path), read_file(b.pcap_path));
  EXPECT_NE(read_file(a.truth_path), read_file(b.truth_path));
}

// TCP flags of each frame (Ethernet + IPv4 without options, as the idle
// connections are written).
std::vector<std::uint8_t> ipv4_tcp_flags(const std::string& pcap_path) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(pcap_path.c_str(), errbuf);
  if (pcap == nullptr) return {};
  std::vector<std::uint8_t> flags;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    flags.push_back(header->caplen > 47 && data[12] == 0x08 && data[13] == 0 ? data[47] : 0xff);
  }
  pcap_close(pcap);
  return flags;
}

TEST_F(CaptureGeneratorTest, IdleConnectionsAreHandshakesBeforeTheSameTraffic) {
  GeneratorOptions plain = options("plain", 300, 9);
  GeneratorOptions loaded = options("loaded", 300, 9);
  loaded.idle_connections = 40;
  GeneratorOptions idle = options("idle", 0, 9);
  idle.idle_connections = 40;
  GeneratorSummary sp, sl, si;
  ASSERT_TRUE(generate_capture(plain, sp).is_ok());
  ASSERT_TRUE(generate_capture(loaded, sl).is_ok());
  ASSERT_TRUE(generate_capture(idle, si).is_ok());

  // Three packets each: SYN, SYN-ACK, ACK, and never a FIN or RST.
  EXPECT_EQ(si.packets, 120u);
  EXPECT_EQ(si.requests, 0u);
  const std::vector<std::uint8_t> flags = ipv4_tcp_flags(idle.pcap_path);
  ASSERT_EQ(flags.size(), 120u);
  for (std::size_t i = 0; i < flags.size(); i += 3) {
    EXPECT_EQ(flags[i], 0x02) << i;
    EXPECT_EQ(flags[i + 1], 0x12) << i;
    EXPECT_EQ(flags[i + 2], 0x10) << i;
  }
  // The loaded capture is the idle one followed by the same traffic (moved
  // in time only): same packets, same requests, same rows but for ts_us.
  const std::string idle_bytes = read_file(idle.pcap_path);
  EXPECT_EQ(read_file(loaded.pcap_path).compare(0, idle_bytes.size(), idle_bytes), 0);
  EXPECT_EQ(sl.packets, sp.packets + si.packets);
  EXPECT_EQ(sl.bytes, sp.bytes + si.bytes);
  const std::vector<std::string> plain_rows = read_lines(plain.truth_path);
  const std::vector<std::string> loaded_rows = read_lines(loaded.truth_path);
  ASSERT_EQ(plain_rows.size(), loaded_rows.size());
  for (std::size_t i = 1; i < plain_rows.size(); ++i) {
    EXPECT_EQ(plain_rows[i].substr(plain_rows[i].find('\t')), loaded_rows[i].substr(loaded_rows[i].find('\t')));
    EXPECT_GT(std::stoll(loaded_rows[i]), std::stoll(plain_rows[i]));
  }
}

TEST_F(CaptureGeneratorTest, MoreIdleConnectionsThanAddressesAreRefused) {
  GeneratorOptions o = options("many", 10, 1);
  o.idle_connections = GeneratorOptions::kMaxIdleConnections + 1;
  GeneratorSummary summary;
  const Status status = generate_capture(o, summary);
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("idle connections"), std::string::npos) << status.message();
}

TEST_F(CaptureGeneratorTest, KeyFileAndConfigMatch) {
  const GeneratorOptions o = options("k", 10, 1);
  GeneratorSummary summary;
  ASSERT_TRUE(generate_capture(o, summary).is_ok());
  const std::vector<std::string> keys = read_lines(o.keys_path);
  ASSERT_FALSE(keys.empty());
  for (const std::string& line : keys) {
    ASSERT_EQ(line.size(), 64u + 1 + 9) << line;  // sha256 hex, space, acct-NNNN
    EXPECT_EQ(line.find_first_not_of("0123456789abcdef"), 64u) << line;
    EXPECT_EQ(line.substr(64, 6), " acct-") << line;
  }
  const std::string config = read_file(o.config_path);
  EXPECT_NE(config.find("key_file = \"" + fs::absolute(o.keys_path).lexically_normal().string() + "\""),
            std::string::npos)
      << config;
  EXPECT_NE(config.find("trusted_proxies = [\"10.30.0.5/32\", \"fd00:30::5/128\"]"), std::string::npos);
}

TEST_F(CaptureGeneratorTest, ConfigWithoutKeyFileIsRefused) {
  GeneratorOptions o = options("c", 10, 1);
  o.keys_path.clear();
  GeneratorSummary summary;
  EXPECT_FALSE(generate_capture(o, summary).is_ok());
}

TEST_F(CaptureGeneratorTest, UnwritableOutputIsAnError) {
  GeneratorOptions o = options("u", 10, 1);
  o.pcap_path = (dir_ / "missing-dir" / "x.pcap").string();
  GeneratorSummary summary;
  const Status s = generate_capture(o, summary);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("x.pcap"), std::string::npos);
}

TEST(AgentConfigTextTest, EscapesTheKeyFilePath) {
  const std::string text = agent_config_text("/tmp/a \"b\"\\c");
  EXPECT_NE(text.find(R"(key_file = "/tmp/a \"b\"\\c")"), std::string::npos) << text;
}

}  // namespace
}  // namespace ipattrib::bench
