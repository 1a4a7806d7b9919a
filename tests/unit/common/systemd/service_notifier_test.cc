// ServiceNotifier against a real notification socket: the test binds a unix
// datagram socket, points NOTIFY_SOCKET at it (as systemd does) and reads the
// exact datagrams a Type=notify unit's manager would receive.
#include "common/systemd/service_notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ipattrib {
namespace {

using std::chrono::seconds;

class ServiceNotifierTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TempDir() + "/notify-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path_.size(), sizeof(addr.sun_path));
    path_.copy(addr.sun_path, path_.size());
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }

  // The next datagram, or "" when none is queued (sd_notify sends
  // synchronously, so whatever was sent is already there).
  std::string next_message() {
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(ServiceNotifierTest, SendsReadyStatusReloadingAndStopping) {
  ServiceNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  notifier.ready();
  EXPECT_EQ(next_message(), "READY=1");
  notifier.status("capturing on eth1: 120 packets/s");
  EXPECT_EQ(next_message(), "STATUS=capturing on eth1: 120 packets/s");
  notifier.reloading();
  const std::string reloading = next_message();
  EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
  EXPECT_GT(std::strtoull(reloading.c_str() + reloading.find('=', 12) + 1, nullptr, 10), 0u) << reloading;
  notifier.stopping();
  EXPECT_EQ(next_message(), "STOPPING=1");
  EXPECT_EQ(next_message(), "");
}

TEST_F(ServiceNotifierTest, StatusIsKeptOnOneLine) {
  ServiceNotifier notifier;
  notifier.status("two\nlines");
  EXPECT_EQ(next_message(), "STATUS=two lines");
}

TEST_F(ServiceNotifierTest, WatchdogPingsAtMostOncePerHalfInterval) {
  setenv("WATCHDOG_USEC", "2000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  ServiceNotifier notifier;
  EXPECT_EQ(notifier.watchdog_interval(), seconds(2));
  const auto t0 = ServiceNotifier::Clock::now();
  notifier.watchdog_ping(t0);
  EXPECT_EQ(next_message(), "WATCHDOG=1");
  notifier.watchdog_ping(t0 + std::chrono::milliseconds(999));
  EXPECT_EQ(next_message(), "") << "pinged again before half the interval";
  notifier.watchdog_ping(t0 + seconds(1));
  EXPECT_EQ(next_message(), "WATCHDOG=1");
  notifier.watchdog_ping(t0 + std::chrono::milliseconds(1500));
  EXPECT_EQ(next_message(), "");
}

TEST_F(ServiceNotifierTest, NoWatchdogPingsWhenTheWatchdogIsForAnotherProcess) {
  setenv("WATCHDOG_USEC", "2000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  ServiceNotifier notifier;
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  notifier.watchdog_ping();
  EXPECT_EQ(next_message(), "");
}

TEST_F(ServiceNotifierTest, NoWatchdogPingsWithoutWatchdogSec) {
  ServiceNotifier notifier;
  notifier.watchdog_ping();
  EXPECT_EQ(next_message(), "");
}

TEST_F(ServiceNotifierTest, EverythingIsANoOpOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  setenv("WATCHDOG_USEC", "2000000", 1);
  ServiceNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  notifier.ready();
  notifier.status("x");
  notifier.reloading();
  notifier.stopping();
  notifier.watchdog_ping();
  EXPECT_EQ(next_message(), "");
}

}  // namespace
}  // namespace ipattrib
