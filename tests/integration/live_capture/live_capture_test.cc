// Runs ipattrib-agent on the loopback interface as a real process, makes real
// HTTP requests over a real TCP connection to a listener of the test's own,
// and checks what the agent reports: the events, SIGUSR1's stats line, and
// that SIGTERM ends it cleanly with the final stats.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <pcap/pcap.h>

#include "tests/support/loopback_capture.h"

namespace {

using ipattrib::test_support::can_capture_on_loopback;
using ipattrib::test_support::listen_on_loopback;
using ipattrib::test_support::read_file;
using ipattrib::test_support::wait_for;

pid_t start_agent(const std::vector<std::string>& args, const std::string& log_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::FILE* log = std::fopen(log_path.c_str(), "w");
    dup2(fileno(log), 2);
    dup2(fileno(log), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(IPATTRIB_AGENT_BIN));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Kills the agent if the test ends early, so no capture outlives it.
struct ProcessGuard {
  pid_t pid;
  ~ProcessGuard() {
    if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

TEST(LiveCaptureTest, AttributesRequestsSeenOnLoopback) {
  if (!can_capture_on_loopback()) {
    GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  }
  std::uint16_t port = 0;
  const int listener = listen_on_loopback(port);
  ASSERT_GE(listener, 0);

  const std::string dir = testing::TempDir();
  const std::string events = dir + "/live_events.jsonl";
  const std::string log = dir + "/live_agent.log";
  const pid_t agent = start_agent({"--interface", "lo", "--filter", "tcp port " + std::to_string(port), "--ports",
                                   std::to_string(port), "--account-header", "X-Account-Id", "--events", events},
                                  log);
  ProcessGuard guard{agent};
  ASSERT_TRUE(wait_for(log, "reading interface lo", 10)) << read_file(log);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // capture activated

  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const int server = accept(listener, nullptr, nullptr);
  ASSERT_GE(server, 0);
  const std::string requests =
      "GET /v1/things HTTP/1.1\r\nHost: live.test\r\nX-Account-Id: acct-live\r\n\r\n"
      "DELETE /v1/things/7 HTTP/1.1\r\nHost: live.test\r\nX-Account-Id: acct-live\r\n"
      "Authorization: Bearer secret-token-value\r\n\r\n";
  ASSERT_EQ(write(client, requests.data(), requests.size()), static_cast<ssize_t>(requests.size()));
  char sink[4096];
  ASSERT_GT(read(server, sink, sizeof(sink)), 0);
  close(client);
  close(server);
  close(listener);

  ASSERT_TRUE(wait_for(events, "DELETE", 10)) << read_file(log);
  kill(agent, SIGUSR1);
  EXPECT_TRUE(wait_for(log, "capture.kernel_drops=", 10)) << read_file(log);
  kill(agent, SIGTERM);
  int status = 0;
  waitpid(agent, &status, 0);
  guard.pid = 0;
  ASSERT_TRUE(WIFEXITED(status)) << read_file(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(log);

  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(events));
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u) << read_file(events);
  EXPECT_EQ(lines[0]["method"], "GET");
  EXPECT_EQ(lines[0]["class"], "access");
  EXPECT_EQ(lines[1]["method"], "DELETE");
  EXPECT_EQ(lines[1]["class"], "admin");
  for (const auto& e : lines) {
    EXPECT_EQ(e["account"], "acct-live");
    EXPECT_EQ(e["client_ip"], "127.0.0.1");
    EXPECT_EQ(e["ip_source"], "socket");
    EXPECT_EQ(e["server_port"], port);
    EXPECT_EQ(e["host"], "live.test");
  }
  const std::string all = read_file(events) + read_file(log);
  EXPECT_EQ(all.find("secret-token-value"), std::string::npos) << "a bearer token leaked into output or logs";
  // The exit-time stats line is there too (two lines: SIGUSR1 and exit).
  const std::string agent_log = read_file(log);
  const auto first = agent_log.find("http.requests=2");
  ASSERT_NE(first, std::string::npos) << agent_log;
  EXPECT_NE(agent_log.find("http.requests=2", first + 1), std::string::npos) << agent_log;
}

}  // namespace
