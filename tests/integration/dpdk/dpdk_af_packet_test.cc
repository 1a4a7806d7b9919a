// The DPDK backend on a live interface: ipattrib-agent runs in a network
// namespace with a net_af_packet vdev on one end of a veth pair, and real TCP
// connections from a second namespace carry HTTP requests through it. Every
// request must come out as an event with its account and client address,
// and SIGTERM must stop the agent with exit status 0. Needs root to create
// namespaces; says "skipped" where they cannot be made.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"

namespace ipattrib {
namespace {

using test_support::ChildProcess;
using test_support::eventually;
using test_support::run;

constexpr const char* kServerIp = "10.211.0.1";
constexpr const char* kClientIp = "10.211.0.2";
constexpr int kRequests = 5;

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Two namespaces joined by a veth pair; deleted (with the pair) at the end.
class VethNamespaces {
 public:
  VethNamespaces() : tag_(std::to_string(getpid())) {}
  ~VethNamespaces() {
    run("ip netns del " + server());
    run("ip netns del " + client());
  }
  bool create(std::string& why) {
    const std::vector<std::string> steps = {
        "ip netns add " + server(),
        "ip netns add " + client(),
        "ip link add " + server_if() + " netns " + server() + " type veth peer name " + client_if() + " netns " +
            client(),
        "ip -n " + server() + " addr add " + kServerIp + "/24 dev " + server_if(),
        "ip -n " + client() + " addr add " + kClientIp + "/24 dev " + client_if(),
        "ip -n " + server() + " link set " + server_if() + " up",
        "ip -n " + client() + " link set " + client_if() + " up",
        "ip -n " + server() + " link set lo up",
        "ip -n " + client() + " link set lo up",
    };
    for (const std::string& step : steps) {
      std::string output;
      if (run(step, &output) != 0) {
        why = step + ": " + output;
        return false;
      }
    }
    return true;
  }
  std::string server() const { return "ipadpdk" + tag_ + "s"; }
  std::string client() const { return "ipadpdk" + tag_ + "c"; }
  std::string server_if() const { return "dpk" + tag_ + "s"; }
  std::string client_if() const { return "dpk" + tag_ + "c"; }

 private:
  std::string tag_;
};

// Moves the calling thread into a named network namespace.
bool enter_namespace(const std::string& name) {
  const int fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = setns(fd, CLONE_NEWNET) == 0;
  close(fd);
  return ok;
}

sockaddr_in server_address() {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(8080);
  inet_pton(AF_INET, kServerIp, &addr.sin_addr);
  return addr;
}

// Answers `count` connections with a small response, one at a time.
void serve(const std::string& ns, int count, std::atomic<bool>& listening) {
  ASSERT_TRUE(enter_namespace(ns));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = server_address();
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  listening = true;
  for (int i = 0; i < count; ++i) {
    const int conn = accept(fd, nullptr, nullptr);
    ASSERT_GE(conn, 0);
    std::string head;
    char buffer[2048];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      head.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    send(conn, response.data(), response.size(), MSG_NOSIGNAL);
    close(conn);
  }
  close(fd);
}

// One request per connection; returns the response.
std::string request(const std::string& ns, const std::string& account) {
  std::string response;
  std::thread client([&] {
    if (!enter_namespace(ns)) return;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = server_address();
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return;
    }
    const std::string head = "GET /v1/things HTTP/1.1\r\nHost: api.test\r\nX-Account-Id: " + account + "\r\n\r\n";
    send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    char buffer[512];
    while (true) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
  });
  client.join();
  return response;
}

// The stats line's value of `name` (-1 when absent).
long long stat(const std::string& log, const std::string& name) {
  const std::size_t line = log.rfind("stats:");
  const std::size_t at = line == std::string::npos ? line : log.find(" " + name + "=", line);
  return at == std::string::npos ? -1 : std::stoll(log.substr(at + name.size() + 2));
}

// Runs the agent on the server end of the veth with `queues` RX queues
// (net_af_packet qpairs) and `workers` pipeline workers, sends `requests`
// requests, one per connection, from the client namespace, stops the agent
// with SIGTERM and checks every request came out once with its account and
// the client's address. Returns the log.
std::string capture_requests_over_veth(int queues, int requests, int workers = 1) {
  if (geteuid() != 0) {
    ADD_FAILURE() << "internal: callers skip without root";
    return {};
  }
  VethNamespaces net;
  std::string why;
  if (!net.create(why)) {
    ADD_FAILURE() << "cannot make network namespaces here (" << why << ")";
    return {};
  }
  const std::string work =
      (std::filesystem::temp_directory_path() / ("ipattrib-dpdk-af-packet-" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  const std::string config = work + "/agent.toml";
  std::ofstream(config) << "[http]\nports = [8080]\n\n[[attribution.account]]\ntype = \"header\"\nname = "
                           "\"X-Account-Id\"\n\n[capture]\nbackend = \"dpdk\"\nread_timeout_ms = 50\n\n"
                           "[capture.dpdk]\neal_args = [\"--no-huge\", \"--no-pci\", \"--no-shconf\", "
                           "\"--no-telemetry\", \"-m\", \"256\", \"--file-prefix=ipattrib-afp-"
                        << getpid() << "\", \"--vdev=net_af_packet0,iface=" << net.server_if() << ",qpairs=" << queues
                        << "\"]\nrx_queues = " << queues << "\nmbuf_pool_size = 8191\n\n[pipeline]\nworkers = " << workers
                        << "\n";
  const std::string events = work + "/events.jsonl";
  const std::string log = work + "/agent.log";
  ChildProcess agent;
  agent.start({"/usr/bin/env", "ip", "netns", "exec", net.server(), IPATTRIB_AGENT_BIN, "--config", config,
               "--events", events},
              log);
  const std::string started = "dpdk: port 0 (net_af_packet) started: " + std::to_string(queues) + " RX queue(s)";
  if (!eventually([&] { return file_text(log).find(started) != std::string::npos; }, 60)) {
    ADD_FAILURE() << "the agent did not start " << queues << " queue(s):\n" << file_text(log);
    return {};
  }

  std::atomic<bool> listening{false};
  std::thread server([&] { serve(net.server(), requests, listening); });
  EXPECT_TRUE(eventually([&] { return listening.load(); }, 30));
  for (int i = 0; i < requests; ++i) {
    EXPECT_NE(request(net.client(), "acct-dpdk-" + std::to_string(i)).find("200 OK"), std::string::npos);
  }
  server.join();

  const auto seen = [&](int i) {
    return file_text(events).find("\"account\":\"acct-dpdk-" + std::to_string(i) + "\"") != std::string::npos;
  };
  const bool all_seen = eventually([&] {
    for (int i = 0; i < requests; ++i) {
      if (!seen(i)) return false;
    }
    return true;
  }, 60);
  EXPECT_EQ(agent.stop(SIGTERM), 0) << file_text(log);
  EXPECT_TRUE(all_seen) << "events:\n" << file_text(events) << "\nagent log:\n" << file_text(log);
  std::istringstream lines(file_text(events));
  int events_seen = 0;
  for (std::string line; std::getline(lines, line);) {
    ++events_seen;
    EXPECT_NE(line.find(std::string("\"client_ip\":\"") + kClientIp + "\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"target\":\"/v1/things\""), std::string::npos) << line;
  }
  EXPECT_EQ(events_seen, requests);  // each once
  const std::string all_events = file_text(events);
  for (int i = 0; i < requests; ++i) {
    const std::string account = "\"account\":\"acct-dpdk-" + std::to_string(i) + "\"";
    std::size_t count = 0;
    for (std::size_t at = all_events.find(account); at != std::string::npos; at = all_events.find(account, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << account;
  }
  const std::string text = file_text(log);
  EXPECT_EQ(stat(text, "capture.dpdk_imissed"), 0) << text;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(work);
  return text;
}

bool can_make_namespaces(std::string& why) {
  if (geteuid() != 0) {
    why = "network namespaces need root";
    return false;
  }
  VethNamespaces probe;
  return probe.create(why);
}

TEST(DpdkAfPacketTest, RequestsOverAVethAreCapturedThroughDpdk) {
  std::string why;
  if (!can_make_namespaces(why)) GTEST_SKIP() << "skipped: " << why;
  const std::string log = capture_requests_over_veth(1, 5);
  EXPECT_GT(stat(log, "capture.dpdk_queue0_packets"), 0) << log;
}

// Two queues spread by the kernel's symmetric fanout hash: a connection's
// two directions meet in one queue, so every request is still found once.
// 24 connections all hashing to one queue would be a 2^-23 chance.
TEST(DpdkAfPacketTest, TwoQueuesSplitConnectionsAndStillSeeEachRequestOnce) {
  std::string why;
  if (!can_make_namespaces(why)) GTEST_SKIP() << "skipped: " << why;
  const std::string log = capture_requests_over_veth(2, 24);
  EXPECT_GT(stat(log, "capture.dpdk_queue0_packets"), 0) << log;
  EXPECT_GT(stat(log, "capture.dpdk_queue1_packets"), 0) << log;
}

// Two queues, two workers: each worker reads its own queue straight into its
// pipeline (no capture thread copying frames to it), and every request is
// still found exactly once.
TEST(DpdkAfPacketTest, TwoWorkersEachReadTheirOwnQueue) {
  std::string why;
  if (!can_make_namespaces(why)) GTEST_SKIP() << "skipped: " << why;
  const std::string log = capture_requests_over_veth(2, 24, 2);
  EXPECT_NE(log.find("pipeline: 2 workers, each reading its own RX queue(s) directly"), std::string::npos) << log;
  const long long queue0 = stat(log, "capture.dpdk_queue0_packets");
  const long long queue1 = stat(log, "capture.dpdk_queue1_packets");
  EXPECT_GT(queue0, 0) << log;
  EXPECT_GT(queue1, 0) << log;
  EXPECT_EQ(stat(log, "capture.frames"), queue0 + queue1) << log;
  EXPECT_EQ(stat(log, "pipeline.worker0.frames"), queue0) << log;
  EXPECT_EQ(stat(log, "pipeline.worker1.frames"), queue1) << log;
  EXPECT_EQ(stat(log, "pipeline.frames_dispatched"), 0) << log;
  EXPECT_EQ(stat(log, "http.requests"), 24) << log;
}

// Fewer queues than workers: the capture thread reads the one queue and
// spreads flows in software, and says why.
TEST(DpdkAfPacketTest, TwoWorkersOnOneQueueAreFedInSoftware) {
  std::string why;
  if (!can_make_namespaces(why)) GTEST_SKIP() << "skipped: " << why;
  const std::string log = capture_requests_over_veth(1, 8, 2);
  EXPECT_NE(log.find("pipeline: 2 workers, fed by the capture thread"), std::string::npos) << log;
  EXPECT_NE(log.find("has 1 RX queue(s) without symmetric RSS"), std::string::npos) << log;
  EXPECT_EQ(stat(log, "pipeline.frames_dispatched"), stat(log, "capture.frames")) << log;
  EXPECT_EQ(stat(log, "http.requests"), 8) << log;
}

}  // namespace
}  // namespace ipattrib
