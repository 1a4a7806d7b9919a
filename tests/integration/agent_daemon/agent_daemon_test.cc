// Runs ipattrib-agent as a real process capturing on loopback, the way a
// service manager or an operator starts it: with a NOTIFY_SOCKET bound by the
// test (what systemd reads from a Type=notify unit), and as root told to drop
// to another user (what /proc/PID/status then says about the running agent).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/privilege/privilege_drop.h"
#include "tests/support/loopback_capture.h"

namespace ipattrib {
namespace {

using ipattrib::test_support::can_capture_on_loopback;
using ipattrib::test_support::listen_on_loopback;
using ipattrib::test_support::read_file;
using ipattrib::test_support::wait_for;

constexpr std::uint64_t kNetRaw = std::uint64_t{1} << 13;    // CAP_NET_RAW
constexpr std::uint64_t kNetAdmin = std::uint64_t{1} << 12;  // CAP_NET_ADMIN

// The agent as a child process with extra environment variables; killed if
// the test ends early so no capture outlives it.
class AgentProcess {
 public:
  AgentProcess(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log)
      : log_(log) {
    unlink(log.c_str());  // waits read it: nothing of an earlier run may remain
    pid_ = fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(log.c_str(), "w");
      dup2(fileno(out), 1);
      dup2(fileno(out), 2);
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv{const_cast<char*>(IPATTRIB_AGENT_BIN)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }
  // SIGTERM, then the exit status (-1 if it did not exit normally).
  int terminate() {
    kill(pid_, SIGTERM);
    return wait_exit();
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string log_;
  pid_t pid_ = 0;
};

// A unix datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = testing::TempDir() + "/agent-notify-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The next datagram, waiting up to `seconds`; "" on timeout.
  std::string next(int seconds) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, seconds * 1000) <= 0) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
  // Reads datagrams until one starts with `prefix`; every one read is kept.
  std::string next_starting_with(const std::string& prefix, int seconds, std::vector<std::string>& seen) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string m = next(1);
      if (m.empty()) continue;
      seen.push_back(m);
      if (m.rfind(prefix, 0) == 0) return m;
    }
    return "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

void send_one_request(int listener, std::uint16_t port) {
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const int server = accept(listener, nullptr, nullptr);
  const std::string request = "GET /v1/x HTTP/1.1\r\nHost: daemon.test\r\nX-Account-Id: acct-d\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char sink[512];
  ASSERT_GT(read(server, sink, sizeof(sink)), 0);
  close(client);
  close(server);
}

TEST(AgentDaemonTest, SpeaksTheNotifyProtocolOfATypeNotifyUnit) {
  if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  NotifySocket notify;
  ASSERT_TRUE(notify.bound()) << notify.path();
  std::uint16_t port = 0;
  const int listener = listen_on_loopback(port);
  ASSERT_GE(listener, 0);
  const std::string log = testing::TempDir() + "/agent_daemon_notify.log";
  AgentProcess agent({"--interface", "lo", "--filter", "tcp port " + std::to_string(port), "--ports",
                      std::to_string(port), "--account-header", "X-Account-Id"},
                     {"NOTIFY_SOCKET=" + notify.path(), "WATCHDOG_USEC=1000000"}, log);

  // READY=1 is the first thing systemd hears, and only once capture is open.
  const std::string first = notify.next(20);
  ASSERT_EQ(first, "READY=1") << agent.log();
  EXPECT_NE(agent.log().find("reading interface lo"), std::string::npos) << agent.log();

  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // capture activated
  send_one_request(listener, port);
  close(listener);

  // STATUS= lines come every few seconds; one of them counts the request.
  std::vector<std::string> seen;
  std::string status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (status.find(" 1 requests") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    status = notify.next_starting_with("STATUS=", 15, seen);
  }
  ASSERT_NE(status.find(" 1 requests"), std::string::npos) << status << "\n" << agent.log();
  EXPECT_NE(status.find("packets/s"), std::string::npos) << status;
  EXPECT_EQ(status.find('\n'), std::string::npos) << "STATUS must be one line";
  // The main loop pinged the watchdog (WatchdogSec=1s here) while doing so.
  bool pinged = false;
  for (const std::string& m : seen) pinged = pinged || m == "WATCHDOG=1";
  if (!pinged) pinged = !notify.next_starting_with("WATCHDOG=1", 5, seen).empty();
  EXPECT_TRUE(pinged) << "no WATCHDOG=1 among " << seen.size() << " messages";

  kill(agent.pid(), SIGTERM);
  EXPECT_EQ(notify.next_starting_with("STOPPING=1", 20, seen), "STOPPING=1") << agent.log();
  EXPECT_EQ(agent.wait_exit(), 0) << agent.log();
}

TEST(AgentDaemonTest, ReloadIsAnnouncedAndFollowedByReady) {
  if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here (needs root or CAP_NET_RAW)";
  NotifySocket notify;
  ASSERT_TRUE(notify.bound());
  AgentProcess agent({"--interface", "lo", "--filter", "tcp port 9", "--ports", "9"},
                     {"NOTIFY_SOCKET=" + notify.path()}, testing::TempDir() + "/agent_daemon_reload.log");
  ASSERT_EQ(notify.next(20), "READY=1") << agent.log();
  kill(agent.pid(), SIGHUP);
  std::vector<std::string> seen;
  const std::string reloading = notify.next_starting_with("RELOADING=1", 20, seen);
  EXPECT_NE(reloading.find("\nMONOTONIC_USEC="), std::string::npos) << reloading;
  EXPECT_EQ(notify.next_starting_with("READY=1", 20, seen), "READY=1") << agent.log();
  EXPECT_EQ(agent.terminate(), 0) << agent.log();
}

class AgentPrivilegeDropTest : public testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "skipped: dropping privileges needs the test to run as root";
    if (!can_capture_on_loopback()) GTEST_SKIP() << "skipped: cannot capture on 'lo' here";
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr) GTEST_SKIP() << "skipped: no user 'nobody' on this machine";
    nobody_uid_ = pw->pw_uid;
    nobody_gid_ = pw->pw_gid;
  }

  // Starts the agent, waits until it captures, and reads its credentials.
  void expect_dropped(const std::vector<std::string>& args, std::uint64_t expected_caps, const std::string& name) {
    AgentProcess agent(args, {}, testing::TempDir() + "/" + name + ".log");
    ASSERT_TRUE(wait_for(testing::TempDir() + "/" + name + ".log", "reading interface lo", 20)) << agent.log();
    ProcessCredentials c;
    ASSERT_TRUE(read_process_credentials("/proc/" + std::to_string(agent.pid()) + "/status", c));
    EXPECT_EQ(c.real_uid, nobody_uid_);
    EXPECT_EQ(c.effective_uid, nobody_uid_);
    EXPECT_EQ(c.saved_uid, nobody_uid_);
    EXPECT_EQ(c.effective_gid, nobody_gid_);
    EXPECT_EQ(c.cap_effective, expected_caps);
    EXPECT_EQ(c.cap_permitted, expected_caps);
    EXPECT_EQ(c.cap_bounding, expected_caps);
    EXPECT_EQ(c.cap_ambient, 0u);
    EXPECT_TRUE(c.no_new_privs);
    EXPECT_NE(agent.log().find("privileges: dropped root: now user nobody"), std::string::npos) << agent.log();
    EXPECT_EQ(agent.terminate(), 0) << agent.log();
  }

  std::uint32_t nobody_uid_ = 0;
  std::uint32_t nobody_gid_ = 0;
};

TEST_F(AgentPrivilegeDropTest, RootDropsToTheUserKeepingOnlyNetRaw) {
  expect_dropped({"--interface", "lo", "--ports", "9", "--filter", "tcp port 9", "--user", "nobody"}, kNetRaw,
                 "agent_drop_flag");
}

TEST_F(AgentPrivilegeDropTest, ConfigFileUserWithNetAdmin) {
  const std::string config = testing::TempDir() + "/agent_drop.toml";
  std::ofstream(config) << "[agent]\nuser = \"nobody\"\nkeep_net_admin = true\n"
                           "[capture]\ninterface = \"lo\"\nfilter = \"tcp port 9\"\n";
  expect_dropped({"--config", config}, kNetRaw | kNetAdmin, "agent_drop_config");
}

TEST_F(AgentPrivilegeDropTest, EmptyUserKeepsRoot) {
  const std::string log = testing::TempDir() + "/agent_drop_none.log";
  AgentProcess agent({"--interface", "lo", "--filter", "tcp port 9", "--user", ""}, {}, log);
  ASSERT_TRUE(wait_for(log, "reading interface lo", 20)) << agent.log();
  ProcessCredentials c;
  ASSERT_TRUE(read_process_credentials("/proc/" + std::to_string(agent.pid()) + "/status", c));
  EXPECT_EQ(c.effective_uid, 0u);
  EXPECT_NE(agent.log().find("no user configured"), std::string::npos) << agent.log();
  EXPECT_EQ(agent.terminate(), 0);
}

TEST_F(AgentPrivilegeDropTest, UnknownUserStopsTheAgent) {
  const std::string log = testing::TempDir() + "/agent_drop_unknown.log";
  AgentProcess agent({"--interface", "lo", "--filter", "tcp port 9", "--user", "no-such-user-ipattrib"}, {}, log);
  EXPECT_EQ(agent.wait_exit(), 1);
  EXPECT_NE(agent.log().find("privileges: user 'no-such-user-ipattrib' does not exist"), std::string::npos)
      << agent.log();
}

}  // namespace
}  // namespace ipattrib
