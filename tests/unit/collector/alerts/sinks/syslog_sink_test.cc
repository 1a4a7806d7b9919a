// SyslogSink against real receivers: a unix datagram socket (as /dev/log
// is), a UDP socket and a TCP listener reading RFC 6587 octet-counted
// frames; every message must have the RFC 5424 shape and carry the alert's
// JSON as MSG.
#include "collector/alerts/sinks/syslog_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "collector/alerts/alert_json.h"
#include "collector/alerts/sinks/syslog_address.h"
#include "common/tls/tcp_socket.h"
#include "tests/unit/collector/alerts/sample_alert.h"

namespace ipattrib::collector {
namespace {

using testing::sample_alert;

// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG
const std::regex kRfc5424(
    R"(^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) alert )"
    R"((\[ipattrib@32473( [a-z]+="([^"\\\]]|\\["\\\]])*")+\]) (\{.*\})$)");

// Checks the shape and returns MSG parsed, with the PRI in pri.
nlohmann::json check_message(const std::string& message, int& pri, std::string* app = nullptr) {
  std::smatch m;
  EXPECT_TRUE(std::regex_match(message, m, kRfc5424)) << message;
  if (m.empty()) return nullptr;
  pri = std::stoi(m[1]);
  if (app != nullptr) *app = m[4];
  return nlohmann::json::parse(m[9].str());
}

std::string recv_datagram(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return "";
  char buf[65536];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

// Reads exactly n bytes (blocking, bounded by poll).
std::string read_exactly(int fd, std::size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) break;
    const ssize_t got = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

// One RFC 6587 octet-counted frame: "LEN SP MSG".
std::string read_frame(int fd) {
  std::string length;
  for (;;) {
    const std::string c = read_exactly(fd, 1);
    if (c.empty()) return "";
    if (c == " ") break;
    if (!std::isdigit(static_cast<unsigned char>(c[0])) || length.size() > 6) {
      ADD_FAILURE() << "bad frame length " << length << c;
      return "";
    }
    length += c;
  }
  return read_exactly(fd, std::stoul(length));
}

std::unique_ptr<AlertSink> open_sink(const std::string& address, const std::string& facility = "local0") {
  SyslogSinkConfig config;
  config.name = "syslog";
  config.address = address;
  config.app_name = "ipattrib-test";
  config.facility = facility;
  std::unique_ptr<AlertSink> sink;
  Status s = open_syslog_sink(config, sink);
  EXPECT_TRUE(s) << s.message();
  return sink;
}

TEST(SyslogSink, UnixDatagramSocketGetsOneRfc5424MessagePerAlert) {
  std::string pattern = (std::filesystem::temp_directory_path() / "syslog-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string path = pattern + "/log";
  tls::UniqueFd receiver(::socket(AF_UNIX, SOCK_DGRAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  std::unique_ptr<AlertSink> sink = open_sink("unix:" + path, "auth");
  const Alert alert = sample_alert(3, "acct-1", Severity::kCritical);
  ASSERT_TRUE(sink->deliver(alert));
  int pri = 0;
  std::string app;
  EXPECT_EQ(check_message(recv_datagram(receiver.get()), pri, &app), alert_to_json(alert));
  EXPECT_EQ(pri, 4 * 8 + 2) << "auth.crit";
  EXPECT_EQ(app, "ipattrib-test");

  ASSERT_TRUE(sink->deliver(sample_alert(4, "acct-2", Severity::kInfo)));
  EXPECT_EQ(check_message(recv_datagram(receiver.get()), pri)["id"], 4);
  EXPECT_EQ(pri, 4 * 8 + 6) << "auth.info";

  receiver.reset();
  std::filesystem::remove_all(pattern);
  EXPECT_FALSE(sink->deliver(alert)) << "no one listening is an error, to be retried";
}

TEST(SyslogSink, UdpHostGetsOneDatagramPerAlert) {
  tls::UniqueFd receiver(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

  std::unique_ptr<AlertSink> sink = open_sink("udp:127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  for (Severity sev : {Severity::kHigh, Severity::kReview}) {
    const Alert alert = sample_alert(10 + static_cast<int>(sev), "acct", sev);
    ASSERT_TRUE(sink->deliver(alert));
    int pri = 0;
    EXPECT_EQ(check_message(recv_datagram(receiver.get()), pri), alert_to_json(alert));
    EXPECT_EQ(pri, 16 * 8 + (sev == Severity::kHigh ? 3 : 4));
  }
}

TEST(SyslogSink, TcpHostGetsOctetCountedFramesAndReconnects) {
  tls::UniqueFd listener;
  std::uint16_t port = 0;
  ASSERT_TRUE(tls::listen_tcp({"127.0.0.1", 0}, 4, listener, port));
  std::unique_ptr<AlertSink> sink = open_sink("tcp:127.0.0.1:" + std::to_string(port));

  const auto accept_one = [&] {
    pollfd p{listener.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 10000), 1);
    tls::UniqueFd conn(::accept(listener.get(), nullptr, nullptr));
    EXPECT_TRUE(conn.valid());
    return conn;
  };

  ASSERT_TRUE(sink->deliver(sample_alert(1)));
  tls::UniqueFd conn = accept_one();
  ASSERT_TRUE(sink->deliver(sample_alert(2, "acct \"quoted\" ]")));
  int pri = 0;
  EXPECT_EQ(check_message(read_frame(conn.get()), pri)["id"], 1);
  const nlohmann::json second = check_message(read_frame(conn.get()), pri);
  EXPECT_EQ(second["account"], "acct \"quoted\" ]") << "SD escaping keeps the message parseable";

  // The receiver restarts: the sink notices the closed connection and
  // delivers the next alert over a new one.
  conn.reset();
  ASSERT_TRUE(sink->deliver(sample_alert(3)));
  tls::UniqueFd again = accept_one();
  EXPECT_EQ(check_message(read_frame(again.get()), pri)["id"], 3);
}

TEST(SyslogFormat, StructuredDataAndHeader) {
  SyslogHeader header{16, "host with space", "app", "42"};
  Alert alert = sample_alert(9, "a]b\"c\\d");
  const std::string m = format_syslog_message(alert, header);
  EXPECT_EQ(m.rfind("<130>1 2024-05-01T12:34:57.000Z hostwithspace app 42 alert [ipattrib@32473 id=\"9\" "
                    "measure=\"ofac-ir\" severity=\"critical\" account=\"a\\]b\\\"c\\\\d\" ip=\"192.0.2.44\"] {",
                    0),
            0u)
      << m;
  int pri = 0;
  EXPECT_EQ(check_message(m, pri), alert_to_json(alert));
  EXPECT_EQ(syslog_severity(Severity::kCritical), 2);
  EXPECT_EQ(syslog_severity(Severity::kInfo), 6);
}

TEST(SyslogAddress, ParsesTheThreeTransports) {
  SyslogAddress a;
  ASSERT_TRUE(parse_syslog_address("unix:/dev/log", a));
  EXPECT_EQ(a.transport, SyslogAddress::Transport::kUnix);
  EXPECT_EQ(a.path, "/dev/log");
  ASSERT_TRUE(parse_syslog_address("udp:[::1]:514", a));
  EXPECT_EQ(a.transport, SyslogAddress::Transport::kUdp);
  EXPECT_EQ(a.host_port.host, "::1");
  EXPECT_EQ(a.host_port.port, 514);
  ASSERT_TRUE(parse_syslog_address("tcp:logs.example.com:6514", a));
  EXPECT_EQ(a.transport, SyslogAddress::Transport::kTcp);
  for (const char* bad : {"", "/dev/log", "unix:", "tcp:host", "udp:host:0", "tls:host:6514", "udp:host:99999"}) {
    EXPECT_FALSE(parse_syslog_address(bad, a)) << bad;
  }
  int code = 0;
  EXPECT_TRUE(parse_syslog_facility("local7", code));
  EXPECT_EQ(code, 23);
  EXPECT_FALSE(parse_syslog_facility("kern", code));
}

}  // namespace
}  // namespace ipattrib::collector
