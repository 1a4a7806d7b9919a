// The agent against Wireshark's tshark on real third-party captures: every
// request tshark sees as HTTP (the *.requests.tsv oracle) must be found by
// the agent with the same client/server addresses, method, host and URI, and
// the agent must find nothing else — except the differences listed below,
// each with the reason the two legitimately differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Request {
  std::string client_ip, server_ip, client_port, server_port, method, host, uri;
  auto tie() const { return std::tie(client_ip, server_ip, client_port, server_port, method, host, uri); }
  bool operator<(const Request& o) const { return tie() < o.tie(); }
  bool operator==(const Request& o) const { return tie() == o.tie(); }
  std::string to_string() const {
    return client_ip + ":" + client_port + " -> " + server_ip + ":" + server_port + " " + method + " " + host + " " +
           uri;
  }
};

// A request one side reports and the other legitimately does not.
struct KnownDifference {
  std::string file;
  std::string uri;      // the request's URI
  bool tshark_only;     // true: tshark reports it, the agent does not
  std::string reason;
};

const std::vector<KnownDifference>& known_differences() {
  // zeek's methods.pcap deliberately sends request lines without an HTTP
  // version ("GET /HTTP/1.1", "OPTIONS HTTP/1.1", "OPTIONS  \r\n"): two
  // tokens, not "method SP target SP version" (RFC 9112 section 3). tshark
  // still reports them; a server answers 400, so no access to an account took
  // place and the agent counts them as http.bad_request_line instead.
  static const std::string kNoVersion =
      "request line without an HTTP version: rejected by servers (400), counted as http.bad_request_line";
  static const std::vector<KnownDifference> kList = {
      {"zeek__http-methods.pcap", "/HTTP/1.1", true, kNoVersion},
      {"zeek__http-methods.pcap", "HTTP/1.1", true, kNoVersion},
      {"zeek__http-methods.pcap", "", true, kNoVersion},
  };
  return kList;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out += c == 't' ? '\t' : c == 'r' ? '\r' : c == 'n' ? '\n' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t')) fields.push_back(unescape(field));
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  return fields;
}

std::multiset<Request> read_oracle(const fs::path& tsv) {
  std::ifstream in(tsv);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_tabs(line);
  auto column = [&](const char* name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::size_t ip_src = column("ip_src"), ipv6_src = column("ipv6_src"), ip_dst = column("ip_dst"),
                    ipv6_dst = column("ipv6_dst"), sport = column("tcp_srcport"), dport = column("tcp_dstport"),
                    method = column("method"), host = column("host"), uri = column("uri");
  std::multiset<Request> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = split_tabs(line);
    f.resize(header.size());
    Request r;
    r.client_ip = !f[ip_src].empty() ? f[ip_src] : f[ipv6_src];
    r.server_ip = !f[ip_dst].empty() ? f[ip_dst] : f[ipv6_dst];
    r.client_port = f[sport];
    r.server_port = f[dport];
    r.method = f[method];
    r.host = f[host];
    r.uri = f[uri];
    out.insert(r);
  }
  return out;
}

std::multiset<Request> run_agent(const fs::path& pcap, const fs::path& events) {
  const std::string command = std::string(IPATTRIB_AGENT_BIN) + " --read '" + pcap.string() +
                              "' --ports any --events '" + events.string() + "' 2>/dev/null";
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << command;
  std::multiset<Request> out;
  std::ifstream in(events);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    Request r;
    r.client_ip = j["peer_ip"];
    r.server_ip = j["server_ip"];
    r.client_port = std::to_string(j["peer_port"].get<int>());
    r.server_port = std::to_string(j["server_port"].get<int>());
    r.method = j["method"];
    r.host = j["host"];
    r.uri = j["target"];
    out.insert(r);
  }
  return out;
}

bool is_known(const std::string& file, const Request& r, bool tshark_only) {
  for (const auto& k : known_differences()) {
    if (k.file == file && k.uri == r.uri && k.tshark_only == tshark_only) return true;
  }
  return false;
}

class SharedCaptureTest : public testing::TestWithParam<std::string> {};

TEST_P(SharedCaptureTest, AgentFindsWhatTsharkFinds) {
  const fs::path dir = IPATTRIB_SHARED_PCAP_DIR;
  const std::string file = GetParam();
  const fs::path events = fs::path(testing::TempDir()) / (file + ".events.jsonl");
  const std::multiset<Request> oracle = read_oracle(dir / (file + ".requests.tsv"));
  const std::multiset<Request> agent = run_agent(dir / file, events);

  std::vector<Request> tshark_only, agent_only;
  std::set_difference(oracle.begin(), oracle.end(), agent.begin(), agent.end(), std::back_inserter(tshark_only));
  std::set_difference(agent.begin(), agent.end(), oracle.begin(), oracle.end(), std::back_inserter(agent_only));
  for (const Request& r : tshark_only) {
    EXPECT_TRUE(is_known(file, r, true)) << file << ": tshark finds, agent misses: " << r.to_string();
  }
  for (const Request& r : agent_only) {
    EXPECT_TRUE(is_known(file, r, false)) << file << ": agent finds, tshark does not: " << r.to_string();
  }
  std::remove(events.c_str());
}

std::vector<std::string> shared_captures() {
  std::vector<std::string> files;
  const fs::path dir = IPATTRIB_SHARED_PCAP_DIR;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".pcap" && fs::exists(entry.path().string() + ".requests.tsv")) {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Captures, SharedCaptureTest, testing::ValuesIn(shared_captures()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SharedCaptureTest);

TEST(SharedCaptureFolder, PresentOrSaysSkipped) {
  if (shared_captures().empty()) {
    GTEST_SKIP() << "skipped: " << IPATTRIB_SHARED_PCAP_DIR
                 << " is absent (a user's clone has no ../shared); the generated-capture test still runs";
  }
  EXPECT_GE(shared_captures().size(), 30u);
}

}  // namespace
