#include "tests/support/network_namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipattrib::test_support {
namespace {

// `ip netns add` mounts the namespaces here, and `ip netns list` reads it.
constexpr const char* kNetnsDir = "/run/netns";
constexpr const char* kStalePrefix = "ipa";

const std::string& ip_binary() {
  static const std::string path = [] {
    for (const char* candidate : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(candidate, X_OK) == 0) return std::string(candidate);
    }
    return std::string("/usr/sbin/ip");
  }();
  return path;
}

// Runs argv (no shell); its exit status, and its output in `output`.
int run_argv(const std::vector<std::string>& argv, std::string& output) {
  // Built before fork: the child of a threaded process only execs.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buffer[1024];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR);) {
    if (n > 0) output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The pid in "ipa<pid>-...", or 0 when the name is not one of ours.
pid_t owner_of(const std::string& name) {
  const std::size_t digits = std::strlen(kStalePrefix);
  if (name.compare(0, digits, kStalePrefix) != 0) return 0;
  const std::size_t dash = name.find('-', digits);
  if (dash == std::string::npos || dash == digits || dash - digits > 9) return 0;
  pid_t pid = 0;
  for (std::size_t i = digits; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace

NetworkNamespaces::NetworkNamespaces() : prefix_(kStalePrefix + std::to_string(::getpid()) + "-") {
  delete_stale();
}

NetworkNamespaces::~NetworkNamespaces() {
  // Deleting a namespace takes its veth ends, and so the pairs, with it.
  for (auto it = hosts_.rbegin(); it != hosts_.rend(); ++it) {
    std::string ignored;
    run_argv({ip_binary(), "netns", "delete", name(*it)}, ignored);
  }
}

void NetworkNamespaces::delete_stale() {
  for (const std::string& name : existing(kStalePrefix)) {
    const pid_t owner = owner_of(name);
    if (owner <= 0 || owner == ::getpid()) continue;
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // its run is still going
    std::string ignored;
    run_argv({ip_binary(), "netns", "delete", name}, ignored);
  }
}

std::vector<std::string> NetworkNamespaces::existing(const std::string& prefix) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kNetnsDir);
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) == 0 && name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

Status NetworkNamespaces::ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  if (run_argv(argv, output) == 0) return Status::ok();
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  return Status::error(command + ": " + output);
}

Status NetworkNamespaces::add_host(const std::string& host) {
  if (Status s = ip({"netns", "add", name(host)}); !s) return s;
  hosts_.push_back(host);
  return ip({"-n", name(host), "link", "set", "lo", "up"});
}

Status NetworkNamespaces::link(const std::string& a, const std::string& a_interface, const std::string& b,
                               const std::string& b_interface) {
  // Both ends are made inside their namespaces: the names never meet the
  // host's interfaces or another run's.
  if (Status s = ip({"link", "add", a_interface, "netns", name(a), "type", "veth", "peer", "name", b_interface,
                     "netns", name(b)});
      !s) {
    return s;
  }
  if (Status s = ip({"-n", name(a), "link", "set", a_interface, "up"}); !s) return s;
  return ip({"-n", name(b), "link", "set", b_interface, "up"});
}

Status NetworkNamespaces::add_address(const std::string& host, const std::string& interface,
                                      const std::string& cidr) {
  std::vector<std::string> args{"-n", name(host), "address", "add", cidr, "dev", interface};
  if (cidr.find(':') != std::string::npos) args.push_back("nodad");
  return ip(args);
}

Status NetworkNamespaces::add_route(const std::string& host, const std::vector<std::string>& route) {
  std::vector<std::string> args{"-n", name(host), route.front().find(':') != std::string::npos ? "-6" : "-4"};
  // "default" says nothing about the family: the gateway after "via" does.
  for (std::size_t i = 0; i + 1 < route.size(); ++i) {
    if (route[i] == "via") args[2] = route[i + 1].find(':') != std::string::npos ? "-6" : "-4";
  }
  args.insert(args.end(), {"route", "add"});
  args.insert(args.end(), route.begin(), route.end());
  return ip(args);
}

std::vector<std::string> NetworkNamespaces::exec_argv(const std::string& host,
                                                      const std::vector<std::string>& argv) const {
  std::vector<std::string> full{ip_binary(), "netns", "exec", name(host), "setpriv", "--pdeathsig", "KILL", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

std::string NetworkNamespaces::shell_prefix(const std::string& host) const {
  return ip_binary() + " netns exec " + name(host) + " ";
}

Status NetworkNamespaces::enter(const std::string& host) const {
  const std::string path = std::string(kNetnsDir) + "/" + name(host);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return Status::error("setns " + path + ": " + std::strerror(saved));
  return Status::ok();
}

}  // namespace ipattrib::test_support
