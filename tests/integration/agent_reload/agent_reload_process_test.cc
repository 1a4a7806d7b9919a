// SIGHUP on a running ipattrib-agent, as `systemctl reload` sends it: the
// agent captures on loopback and ships to collector A with PKI A; the config
// file is rewritten to list only collector B, which trusts and presents
// certificates of another CA (PKI B), and the agent is told to reload. Later
// requests must reach B (so the new list and the new TLS files are in use)
// while capture goes on; a broken file afterwards changes nothing and is
// reported with file:line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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

// printf %s test-token | sha256sum
constexpr const char* kToken = "test-token";
constexpr const char* kTokenSha256 = "4c5dc9b7708905f77f5e5d16316b5dfb425e68cb326dcd55a860e90a7707031e";

struct Collector {
  std::string pki;
  std::uint16_t ingest_port = 0;
  std::uint16_t api_port = 0;
  ChildProcess process;

  std::string config(const fs::path& dir, const std::string& name) const {
    return "stats_interval_s = 1\n"
           "[ledger]\nsqlite_path = \"" + (dir / (name + ".sqlite3")).string() + "\"\n"
           "[ingest]\nlisten = \"127.0.0.1:" + std::to_string(ingest_port) + "\"\n"
           "tls_ca = \"" + pki + "/ca.crt\"\ntls_cert = \"" + pki + "/collector.crt\"\n"
           "tls_key = \"" + pki + "/collector.key\"\nallowed_agents = [\"agent-r\"]\n"
           "[api]\nlisten = \"127.0.0.1:" + std::to_string(api_port) + "\"\n"
           "token_sha256 = [\"" + kTokenSha256 + "\"]\n";
  }
  // HTTP status of the account's IP list: 200 once the ledger holds it, 404 before.
  int account_status(const std::string& account) const {
    httplib::Client http("127.0.0.1", api_port);
    http.set_bearer_token_auth(kToken);
    auto res = http.Get("/v1/accounts/" + account + "/ips");
    return res ? res->status : -1;
  }
};

class AgentReloadProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
    dir_ = fs::temp_directory_path() / ("ipattrib-agent-reload-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string make_pki = std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh ";
    for (auto* c : {&a_, &b_}) {
      c->pki = (dir_ / (c == &a_ ? "pki-a" : "pki-b")).string();
      ASSERT_EQ(run(make_pki + c->pki + " --agent agent-r"), 0);
      c->ingest_port = free_port();
      c->api_port = free_port();
      const std::string name = c == &a_ ? "collector-a" : "collector-b";
      std::ofstream(dir_ / (name + ".toml")) << c->config(dir_, name);
      c->process.start({IPATTRIB_COLLECTOR_BIN, "--config", (dir_ / (name + ".toml")).string()},
                       (dir_ / (name + ".log")).string());
    }
    for (auto* c : {&a_, &b_}) {
      ASSERT_TRUE(eventually([&] {
        httplib::Client http("127.0.0.1", c->api_port);
        auto res = http.Get("/healthz");
        return res && res->status == 200;
      })) << "collector did not start; see " << dir_;
    }
    listener_ = listen_on_loopback(http_port_);
    ASSERT_GE(listener_, 0);
  }
  void TearDown() override {
    if (listener_ >= 0) ::close(listener_);
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // The agent's config file shipping to `to` with its PKI.
  void write_agent_config(const Collector& to, int stats_interval_s = 60) {
    const std::string port = std::to_string(http_port_);
    std::ofstream(dir_ / "agent.toml", std::ios::trunc)
        << "[agent]\nid = \"agent-r\"\ngateway = \"gw-r\"\nuser = \"\"\nstats_interval_s = " << stats_interval_s << "\n"
        << "[capture]\ninterface = \"lo\"\nfilter = \"tcp port " << port << "\"\n"
        << "[http]\nports = [" << port << "]\n"
        << "[[attribution.account]]\ntype = \"header\"\nname = \"X-Account-Id\"\n"
        << "[ship]\nflush_window_ms = 200\nspool_dir = \"" << (dir_ / "spool").string() << "\"\n"
        << "collectors = [\"127.0.0.1:" << to.ingest_port << "\"]\n"
        << "tls_ca = \"" << to.pki << "/ca.crt\"\n"
        << "tls_cert = \"" << to.pki << "/agents/agent-r.crt\"\n"
        << "tls_key = \"" << to.pki << "/agents/agent-r.key\"\n";
  }
  void request(const std::string& account) {
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(http_port_);
    ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const int server = ::accept(listener_, nullptr, nullptr);
    const std::string head = "GET /v1/x HTTP/1.1\r\nHost: reload.test\r\nX-Account-Id: " + account + "\r\n\r\n";
    ASSERT_EQ(::write(client, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    char sink[512];
    ASSERT_GT(::read(server, sink, sizeof(sink)), 0);
    ::close(client);
    ::close(server);
  }
  std::string agent_log() const { return read_file((dir_ / "agent.log").string()); }

  fs::path dir_;
  Collector a_;
  Collector b_;
  int listener_ = -1;
  std::uint16_t http_port_ = 0;
};

TEST_F(AgentReloadProcessTest, NewCollectorListAndCertificatesApplyWithoutARestart) {
  write_agent_config(a_);
  ChildProcess agent;
  const std::string log = (dir_ / "agent.log").string();
  agent.start({IPATTRIB_AGENT_BIN, "--config", (dir_ / "agent.toml").string()}, log);
  ASSERT_TRUE(wait_for(log, "reading interface lo", 30)) << agent_log();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // capture activated

  request("acct-before");
  ASSERT_TRUE(eventually([&] { return a_.account_status("acct-before") == 200; })) << agent_log();

  // Collector B only, PKI B only: the agent's old CA does not trust B's
  // certificate and B does not trust the agent's old one.
  write_agent_config(b_, 1);
  agent.signal(SIGHUP);
  ASSERT_TRUE(wait_for(log, "reload: configuration reloaded", 30)) << agent_log();
  request("acct-after");
  ASSERT_TRUE(eventually([&] { return b_.account_status("acct-after") == 200; })) << agent_log();
  EXPECT_EQ(a_.account_status("acct-after"), 404);
  EXPECT_EQ(b_.account_status("acct-before"), 404);
  // The new stats interval is live: stats lines now come every second.
  EXPECT_TRUE(eventually([&] {
    const std::string text = agent_log();
    const auto after = text.find("reload: configuration reloaded");
    std::size_t lines = 0;
    for (auto at = text.find("stats: ", after); at != std::string::npos; at = text.find("stats: ", at + 1)) ++lines;
    return lines >= 2;
  }, 30)) << agent_log();

  // A broken file: the agent says where and goes on with what it runs.
  std::ofstream(dir_ / "agent.toml", std::ios::app) << "[ship]\nno_such_key = 1\n";
  agent.signal(SIGHUP);
  ASSERT_TRUE(wait_for(log, (dir_ / "agent.toml").string() + ":", 30)) << agent_log();
  request("acct-third");
  ASSERT_TRUE(eventually([&] { return b_.account_status("acct-third") == 200; })) << agent_log();

  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent_log();
}

TEST_F(AgentReloadProcessTest, SettingsThatNeedARestartAreNamed) {
  write_agent_config(a_);
  ChildProcess agent;
  const std::string log = (dir_ / "agent.log").string();
  agent.start({IPATTRIB_AGENT_BIN, "--config", (dir_ / "agent.toml").string()}, log);
  ASSERT_TRUE(wait_for(log, "reading interface lo", 30)) << agent_log();
  std::ofstream(dir_ / "agent.toml", std::ios::app) << "[flow]\nidle_timeout_s = 30\n";
  agent.signal(SIGHUP);
  ASSERT_TRUE(wait_for(log, "[flow] changed; it takes effect at the next restart", 30)) << agent_log();
  EXPECT_TRUE(wait_for(log, "reload: configuration reloaded", 30)) << agent_log();
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent_log();
}

}  // namespace
}  // namespace ipattrib
