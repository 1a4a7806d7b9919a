// Runs ipattrib-agent as a real process capturing live on loopback with
// [agent] metrics_listen set, makes real HTTP requests over real TCP
// connections that it captures, and scrapes GET /metrics and /healthz with a
// real HTTP client: the request counter equals what was sent, the capture and
// drop counters are there, SIGHUP with a new address keeps the old one (the
// change takes effect at the next restart), SIGTERM stops it cleanly. A bad
// metrics_listen and a port already in use stop it at startup.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/loopback_capture.h"

namespace ipattrib {
namespace {

namespace fs = std::filesystem;
using test_support::can_capture_on_loopback;
using test_support::ChildProcess;
using test_support::eventually;
using test_support::free_port;
using test_support::listen_on_loopback;
using test_support::read_file;
using test_support::run;
using test_support::wait_for;

// The value of one sample line ("name{labels} value"), or -1 when absent.
long long sample(const std::string& text, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const std::size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + prefix.size()));
}

class AgentMetricsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipattrib-agent-metrics-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = (dir_ / "agent.toml").string();
    log_ = (dir_ / "agent.log").string();
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void write_config(const std::string& metrics_listen, std::uint16_t http_port, int workers) {
    std::ofstream(config_, std::ios::trunc)
        << "[agent]\nid = \"agent-m\"\nmetrics_listen = \"" << metrics_listen << "\"\nstats_interval_s = 0\n"
        << "[capture]\ninterface = \"lo\"\nfilter = \"tcp port " << http_port << "\"\n"
        << "[http]\nports = [" << http_port << "]\n"
        << "[attribution]\n[[attribution.account]]\ntype = \"header\"\nname = \"X-Account-Id\"\n"
        << "[pipeline]\nworkers = " << workers << "\n";
  }

  std::string scrape(std::uint16_t port, const std::string& path = "/metrics", int* status = nullptr) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(5, 0);
    auto res = client.Get(path.c_str());
    if (status != nullptr) *status = res ? res->status : -1;
    return res ? res->body : "";
  }

  fs::path dir_;
  std::string config_;
  std::string log_;
};

// `requests` requests over `connections` keep-alive connections to the
// listener, each read by the server side so the capture sees them complete.
void send_requests(int listener, std::uint16_t port, int connections, int requests) {
  int sent = 0;
  for (int c = 0; c < connections; ++c) {
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const int server = ::accept(listener, nullptr, nullptr);
    ASSERT_GE(server, 0);
    const int here = c + 1 == connections ? requests - sent : requests / connections;
    std::string heads;
    for (int i = 0; i < here; ++i) {
      heads += "GET /v1/items/" + std::to_string(sent + i) +
               " HTTP/1.1\r\nHost: metrics.test\r\nX-Account-Id: acct-m\r\n\r\n";
    }
    sent += here;
    ASSERT_EQ(::write(client, heads.data(), heads.size()), static_cast<ssize_t>(heads.size()));
    std::string received;
    char buffer[4096];
    while (received.size() < heads.size()) {
      const ssize_t n = ::read(server, buffer, sizeof buffer);
      ASSERT_GT(n, 0);
      received.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(client);
    ::close(server);
  }
}

TEST_F(AgentMetricsProcessTest, ScrapesCountWhatWasCaptured) {
  if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  std::uint16_t http_port = 0;
  const int listener = listen_on_loopback(http_port);
  ASSERT_GE(listener, 0);
  const std::uint16_t metrics_port = free_port();
  write_config("127.0.0.1:" + std::to_string(metrics_port), http_port, 2);
  ChildProcess agent;
  agent.start({IPATTRIB_AGENT_BIN, "--config", config_}, log_);
  ASSERT_TRUE(wait_for(log_, "metrics: serving GET /metrics and /healthz on 127.0.0.1:" + std::to_string(metrics_port),
                       30))
      << read_file(log_);
  int status = 0;
  ASSERT_TRUE(eventually([&] {
    scrape(metrics_port, "/healthz", &status);
    return status == 200;
  })) << read_file(log_);

  constexpr int kRequests = 7;
  send_requests(listener, http_port, 3, kRequests);
  ::close(listener);

  std::string text;
  ASSERT_TRUE(eventually([&] {
    text = scrape(metrics_port);
    return sample(text, "ipattrib_agent_http_requests_total") == kRequests;
  })) << text << read_file(log_);
  EXPECT_EQ(sample(text, "ipattrib_agent_attribution_requests_total"), kRequests) << text;
  // Capture and every drop counter the stats line has, by reason.
  EXPECT_GT(sample(text, "ipattrib_agent_capture_frames_total"), 0) << text;
  for (const char* counter : {"ipattrib_agent_capture_kernel_drops_total",
                              "ipattrib_agent_capture_interface_drops_total",
                              "ipattrib_agent_pipeline_queue_full_drops_total",
                              "ipattrib_agent_flow_evicted_table_full_total",
                              "ipattrib_agent_flow_evicted_for_memory_total"}) {
    EXPECT_GE(sample(text, counter), 0) << counter << " missing:\n" << text;
    EXPECT_NE(text.find(std::string("# TYPE ") + counter + " counter\n"), std::string::npos) << text;
  }
  EXPECT_NE(text.find("# TYPE ipattrib_agent_flow_active gauge\n"), std::string::npos) << text;
  EXPECT_EQ(sample(text, "ipattrib_agent_pipeline_workers"), 2) << text;
  // Per-worker counters are one family with a worker label, and add up.
  const long long w0 = sample(text, "ipattrib_agent_pipeline_worker_frames_total{worker=\"0\"}");
  const long long w1 = sample(text, "ipattrib_agent_pipeline_worker_frames_total{worker=\"1\"}");
  EXPECT_GE(w0, 0) << text;
  EXPECT_GE(w1, 0) << text;
  EXPECT_EQ(w0 + w1, sample(text, "ipattrib_agent_pipeline_frames_dispatched_total")) << text;
  const std::regex info("\nipattrib_agent_info\\{version=\"[0-9.]+\",agent=\"agent-m\",gateway=\"[^\"]+\"\\} 1\n");
  EXPECT_TRUE(std::regex_search(text, info)) << text;
  EXPECT_GT(sample(text, "process_start_time_seconds"), 1600000000) << text;
  EXPECT_EQ(text.find("acct-m"), std::string::npos) << "an account id leaked into the metrics";
  EXPECT_EQ(text.find("/v1/items"), std::string::npos) << "a request path leaked into the metrics";

  // The stats line (SIGUSR1) says the same.
  agent.signal(SIGUSR1);
  ASSERT_TRUE(wait_for(log_, "http.requests=" + std::to_string(kRequests), 30)) << read_file(log_);

  // SIGHUP with another address: reported, and the old address still serves.
  write_config("127.0.0.1:" + std::to_string(free_port()), http_port, 2);
  agent.signal(SIGHUP);
  ASSERT_TRUE(wait_for(log_, "reload: [agent] metrics_listen changed; it takes effect at the next restart", 30))
      << read_file(log_);
  // Counters are published about once a second: the reload shows up soon.
  EXPECT_TRUE(eventually([&] { return sample(scrape(metrics_port), "ipattrib_agent_agent_reloads_total") == 1; }))
      << scrape(metrics_port);

  EXPECT_EQ(agent.stop(SIGTERM), 0) << read_file(log_);
  scrape(metrics_port, "/metrics", &status);
  EXPECT_EQ(status, -1) << "still listening after the agent stopped";
}

// One worker: the packet path runs on the capture thread, which publishes.
TEST_F(AgentMetricsProcessTest, OneWorkerOnTheCaptureThread) {
  if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  std::uint16_t http_port = 0;
  const int listener = listen_on_loopback(http_port);
  ASSERT_GE(listener, 0);
  const std::uint16_t metrics_port = free_port();
  write_config("[::1]:" + std::to_string(metrics_port), http_port, 1);
  const bool has_v6 = run("ip -6 addr show dev lo | grep -q '::1'") == 0;
  if (!has_v6) write_config("127.0.0.1:" + std::to_string(metrics_port), http_port, 1);
  ChildProcess agent;
  agent.start({IPATTRIB_AGENT_BIN, "--config", config_}, log_);
  ASSERT_TRUE(wait_for(log_, "metrics: serving GET /metrics", 30)) << read_file(log_);
  auto scrape_here = [&] {
    httplib::Client client(has_v6 ? "::1" : "127.0.0.1", metrics_port);
    client.set_read_timeout(5, 0);
    auto res = client.Get("/metrics");
    return res ? res->body : std::string();
  };
  ASSERT_TRUE(eventually([&] { return !scrape_here().empty(); })) << read_file(log_);
  constexpr int kRequests = 4;
  send_requests(listener, http_port, 2, kRequests);
  ::close(listener);
  std::string text;
  ASSERT_TRUE(eventually([&] {
    text = scrape_here();
    return sample(text, "ipattrib_agent_http_requests_total") == kRequests;
  })) << text << read_file(log_);
  EXPECT_GT(sample(text, "ipattrib_agent_capture_frames_total"), 0) << text;
  EXPECT_GE(sample(text, "ipattrib_agent_capture_kernel_drops_total"), 0) << text;
  EXPECT_EQ(sample(text, "ipattrib_agent_pipeline_stalled"), 0) << text;
  EXPECT_EQ(text.find("ipattrib_agent_pipeline_worker_frames_total"), std::string::npos) << text;
  EXPECT_EQ(agent.stop(SIGTERM), 0) << read_file(log_);
}

TEST_F(AgentMetricsProcessTest, ABadAddressIsRejectedWithFileAndLine) {
  write_config("localhost", 8080, 1);  // metrics_listen is line 3
  std::string out;
  EXPECT_EQ(run(std::string(IPATTRIB_AGENT_BIN) + " --config " + config_ + " --check-config", &out), 1) << out;
  EXPECT_NE(out.find(config_ + ":3: [agent] metrics_listen must be \"host:port\""), std::string::npos) << out;
  write_config("[::1:9464", 8080, 1);
  EXPECT_EQ(run(std::string(IPATTRIB_AGENT_BIN) + " --config " + config_, &out), 1) << out;
  EXPECT_NE(out.find(config_ + ":3: "), std::string::npos) << out;
  EXPECT_EQ(run(std::string(IPATTRIB_AGENT_BIN) + " --read x.pcap --metrics-listen 9464 --check-config", &out), 1)
      << out;
  EXPECT_NE(out.find("--metrics-listen: metrics_listen must be"), std::string::npos) << out;
}

TEST_F(AgentMetricsProcessTest, APortInUseIsAStartupError) {
  if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  std::uint16_t taken = 0;
  const int holder = listen_on_loopback(taken);
  ASSERT_GE(holder, 0);
  const std::string listen = "127.0.0.1:" + std::to_string(taken);
  write_config(listen, 8080, 1);
  std::string out;
  EXPECT_EQ(run(std::string(IPATTRIB_AGENT_BIN) + " --config " + config_, &out), 1) << out;
  EXPECT_NE(out.find("metrics: cannot listen on " + listen + ": Address already in use"), std::string::npos) << out;
  ::close(holder);
}

}  // namespace
}  // namespace ipattrib
