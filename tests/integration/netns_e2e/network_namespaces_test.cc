// NetworkNamespaces leaves nothing behind: its destructor deletes the
// namespaces it made, and a new one deletes those of a run that died.
#include "tests/support/network_namespaces.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "tests/support/child_process.h"

namespace ipattrib::test_support {
namespace {

bool exists(const std::string& name) {
  const auto names = NetworkNamespaces::existing(name);
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(NetworkNamespacesTest, DeletesItsNamespacesAndThoseOfADeadRunButNotOfALiveOne) {
  // A run that died: a pid that no longer exists.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const std::string stale = "ipa" + std::to_string(dead) + "-stale";
  const std::string live = "ipa" + std::to_string(::getppid()) + "-live";  // the parent still runs
  if (run("ip netns add " + stale) != 0) GTEST_SKIP() << "skipped: this machine cannot create network namespaces";
  ASSERT_EQ(run("ip netns add " + live), 0);

  std::string prefix;
  {
    NetworkNamespaces net;
    prefix = net.prefix();
    EXPECT_FALSE(exists(stale));
    EXPECT_TRUE(exists(live));
    ASSERT_TRUE(net.add_host("a").is_ok());
    ASSERT_TRUE(net.add_host("b").is_ok());
    const Status linked = net.link("a", "eth0", "b", "eth0");
    ASSERT_TRUE(linked.is_ok()) << linked.message();
    ASSERT_TRUE(net.add_address("a", "eth0", "2001:db8::1/64").is_ok());
    EXPECT_EQ(NetworkNamespaces::existing(prefix).size(), 2u);
    std::string out;
    EXPECT_EQ(run(net.shell_prefix("b") + "ip -o link show eth0", &out), 0) << out;  // the peer is in b
    const Status refused = net.add_host("a");
    EXPECT_FALSE(refused.is_ok());
    EXPECT_NE(refused.message().find(net.name("a")), std::string::npos) << refused.message();
  }
  EXPECT_TRUE(NetworkNamespaces::existing(prefix).empty());
  EXPECT_EQ(run("ip netns delete " + live), 0);
}

}  // namespace
}  // namespace ipattrib::test_support
