// MetricsServer over real loopback sockets: what it serves, why a bind
// fails, and that clients that never send a request hold no more than the
// server's own threads.
#include "agent/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace ipattrib::agent {
namespace {

using test_support::free_port;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MetricsSnapshot::Identity identity() { return {"agent-1", "gw-1", "9.9.9", now_us()}; }

// A connected TCP socket to 127.0.0.1:port that sends nothing.
int idle_connection(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

TEST(MetricsServerTest, ServesTheSnapshotAndHealth) {
  MetricsSnapshot snapshot(identity());
  MetricsServer server(snapshot);
  const std::uint16_t port = free_port();
  ASSERT_TRUE(server.bind("127.0.0.1:" + std::to_string(port)));
  server.start();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);  // nothing published yet
  EXPECT_NE(health->body.find("\"status\":\"starting\""), std::string::npos) << health->body;

  StatsLine line;
  line.counter("http.requests", 42);
  line.counter("capture.kernel_drops", 5);
  snapshot.publish(line, now_us(), true);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("\nipattrib_agent_http_requests_total 42\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("\nipattrib_agent_capture_kernel_drops_total 5\n"), std::string::npos)
      << metrics->body;
  health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find("\"status\":\"ok\""), std::string::npos) << health->body;

  auto other = client.Get("/v1/anything");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
  server.stop();
  EXPECT_FALSE(client.Get("/metrics"));  // no longer listening
}

TEST(MetricsServerTest, ServesOnIpv6Loopback) {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool has_v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (probe >= 0) ::close(probe);
  if (!has_v6) GTEST_SKIP() << "skipped: no IPv6 loopback (::1) on this machine";
  MetricsSnapshot snapshot(identity());
  MetricsServer server(snapshot);
  const std::uint16_t port = free_port();
  ASSERT_TRUE(server.bind("[::1]:" + std::to_string(port)));
  server.start();
  httplib::Client client("::1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("ipattrib_agent_info{version=\"9.9.9\""), std::string::npos) << res->body;
}

TEST(MetricsServerTest, BindFailuresNameTheAddressAndTheReason) {
  MetricsSnapshot snapshot(identity());
  // In use by another listener (a second agent on the same port, say): the
  // agent must not start, not share the port.
  std::uint16_t port = 0;
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  socklen_t length = sizeof addr;
  ::getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &length);
  port = ntohs(addr.sin_port);
  {
    MetricsServer server(snapshot);
    const Status s = server.bind("127.0.0.1:" + std::to_string(port));
    EXPECT_FALSE(s);
    EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  }
  {
    // A second MetricsServer does not share the port either (no SO_REUSEPORT).
    MetricsServer first(snapshot);
    const std::uint16_t p = free_port();
    ASSERT_TRUE(first.bind("127.0.0.1:" + std::to_string(p)));
    MetricsServer second(snapshot);
    EXPECT_FALSE(second.bind("127.0.0.1:" + std::to_string(p)));
  }
  ::close(taken);
  {
    // Not an address of this machine (TEST-NET-3).
    MetricsServer server(snapshot);
    const Status s = server.bind("203.0.113.7:9464");
    EXPECT_FALSE(s);
    EXPECT_NE(s.message().find("203.0.113.7:9464"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("assign"), std::string::npos) << s.message();
  }
  {
    MetricsServer server(snapshot);
    const Status s = server.bind("::1:9464");
    EXPECT_FALSE(s);
    EXPECT_NE(s.message().find("[v6]:port"), std::string::npos) << s.message();
  }
}

// The agent may stop right after starting (a capture that fails at once):
// stop() must not miss a server whose loop has not started yet.
TEST(MetricsServerTest, StopRightAfterStartReturns) {
  MetricsSnapshot snapshot(identity());
  for (int i = 0; i < 50; ++i) {
    MetricsServer server(snapshot);
    ASSERT_TRUE(server.bind("127.0.0.1:" + std::to_string(free_port())));
    server.start();
    server.stop();
  }
  MetricsServer never_started(snapshot);
  ASSERT_TRUE(never_started.bind("127.0.0.1:" + std::to_string(free_port())));
  never_started.stop();  // bound, not served: nothing to wait for
}

// Clients that connect and send nothing occupy the request threads until
// the read timeout; the snapshot is published meanwhile, and a scrape made
// behind them is answered once they time out.
TEST(MetricsServerTest, IdleClientsOnlyDelayScrapesUntilTheirTimeout) {
  MetricsSnapshot snapshot(identity());
  MetricsServer server(snapshot, /*timeout_s=*/1);
  const std::uint16_t port = free_port();
  ASSERT_TRUE(server.bind("127.0.0.1:" + std::to_string(port)));
  server.start();
  std::vector<int> idle;
  for (int i = 0; i < 3 * MetricsServer::kThreads; ++i) idle.push_back(idle_connection(port));
  StatsLine line;
  line.counter("http.requests", 9);
  snapshot.publish(line, now_us(), true);  // never waits for the HTTP threads
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  client.set_connection_timeout(30, 0);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("\nipattrib_agent_http_requests_total 9\n"), std::string::npos) << res->body;
  // The idle connections were closed by the server.
  for (const int fd : idle) {
    char byte = 0;
    EXPECT_TRUE(test_support::eventually([&] { return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0; }, 30));
    ::close(fd);
  }
  server.stop();
}

}  // namespace
}  // namespace ipattrib::agent
