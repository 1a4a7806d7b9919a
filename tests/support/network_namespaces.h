// NetworkNamespaces: a throwaway network of `ip netns` hosts joined by veth
// pairs, so one test can run clients, a proxy, an agent and a collector as
// separate hosts with their own addresses on one machine. Every namespace is
// named with a per-run prefix ("ipa<pid>-"); the destructor deletes them all
// (each veth pair goes with its namespaces), also when the test failed, and
// the constructor deletes what an earlier run that crashed left behind (a
// prefix whose pid is gone). It kills nothing: processes inside must be
// stopped first. Needs root (CAP_SYS_ADMIN); add_host says when it is missing.
#pragma once

#include <string>
#include <vector>

#include "ipattrib/status.h"

namespace ipattrib::test_support {

class NetworkNamespaces {
 public:
  NetworkNamespaces();
  NetworkNamespaces(const NetworkNamespaces&) = delete;
  NetworkNamespaces& operator=(const NetworkNamespaces&) = delete;
  ~NetworkNamespaces();

  // A new namespace for `host`, its loopback up.
  Status add_host(const std::string& host);
  // A veth pair: `a_interface` in host a, `b_interface` in host b, both up.
  // Interface names: at most 15 characters.
  Status link(const std::string& a, const std::string& a_interface, const std::string& b,
              const std::string& b_interface);
  // An address in CIDR notation; IPv6 ones skip duplicate address detection
  // so they can be bound at once.
  Status add_address(const std::string& host, const std::string& interface, const std::string& cidr);
  // `ip route add` arguments, e.g. {"default", "via", "203.0.113.11"}.
  Status add_route(const std::string& host, const std::vector<std::string>& route);

  // The namespace's name: the prefix and `host`.
  std::string name(const std::string& host) const { return prefix_ + host; }
  const std::string& prefix() const { return prefix_; }
  // An argv running `argv` inside `host`, for ChildProcess or execv. ip
  // execs the program, so the pid is the program's; the program also gets
  // SIGKILL when the process that started it dies (a crashed test leaves
  // no server running).
  std::vector<std::string> exec_argv(const std::string& host, const std::vector<std::string>& argv) const;
  // The same as a shell command prefix ("/usr/sbin/ip netns exec NAME ").
  std::string shell_prefix(const std::string& host) const;
  // Moves the calling thread into `host`: sockets it opens afterwards (and
  // threads it starts) live there. The rest of the process stays where it was.
  Status enter(const std::string& host) const;

  // Names of the namespaces that exist now and start with `prefix`.
  static std::vector<std::string> existing(const std::string& prefix);

 private:
  Status ip(const std::vector<std::string>& args) const;
  static void delete_stale();

  std::string prefix_;
  std::vector<std::string> hosts_;  // created, in order
};

}  // namespace ipattrib::test_support
