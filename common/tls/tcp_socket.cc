#include "common/tls/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <mutex>

namespace ipattrib::tls {
namespace {

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

struct AddrInfoList {
  addrinfo* head = nullptr;
  ~AddrInfoList() {
    if (head != nullptr) freeaddrinfo(head);
  }
};

Status resolve(const HostPort& address, bool passive, AddrInfoList& list) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
  const std::string port = std::to_string(address.port);
  const char* host = address.host.empty() ? nullptr : address.host.c_str();
  int rc = getaddrinfo(host, port.c_str(), &hints, &list.head);
  if (rc != 0) return Status::error(fmt::format("resolve {}: {}", address.host, gai_strerror(rc)));
  return Status::ok();
}

Status connect_one(const addrinfo* ai, int timeout_ms, UniqueFd& out) {
  UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd.valid() || !set_nonblocking(fd.get())) return Status::error(std::strerror(errno));
  if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Status::error(std::strerror(errno));
    pollfd p{fd.get(), POLLOUT, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc == 0) return Status::error("connect timed out");
    if (rc < 0) return Status::error(std::strerror(errno));
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return Status::error(std::strerror(errno));
    if (err != 0) return Status::error(std::strerror(err));
  }
  int one = 1;
  // Small control frames (HELLO, ACK) must not wait for Nagle; keepalive finds dead peers (protocol.md 6.1).
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  out = std::move(fd);
  return Status::ok();
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(std::exchange(other.fd_, -1));
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status parse_host_port(const std::string& text, HostPort& out) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::error(fmt::format("'{}' is not [ipv6]:port", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return Status::error(fmt::format("'{}' is not host:port (write IPv6 as [addr]:port)", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return Status::error(fmt::format("'{}' has no host", text));
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::error(fmt::format("'{}' has no valid port", text));
  }
  unsigned long value = std::stoul(port);
  if (value > 65535) return Status::error(fmt::format("'{}': port above 65535", text));
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return Status::ok();
}

Status connect_tcp(const HostPort& address, int timeout_ms, UniqueFd& out) {
  AddrInfoList list;
  if (Status s = resolve(address, false, list); !s) return s;
  std::string errors;
  for (const addrinfo* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    Status s = connect_one(ai, timeout_ms, out);
    if (s) return s;
    if (!errors.empty()) errors += "; ";
    errors += s.message();
  }
  return Status::error(fmt::format("connect {}:{}: {}", address.host, address.port, errors));
}

Status listen_tcp(const HostPort& address, int backlog, UniqueFd& out, std::uint16_t& bound_port) {
  AddrInfoList list;
  if (Status s = resolve(address, true, list); !s) return s;
  std::string errors;
  for (const addrinfo* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    int one = 1;
    if (!fd.valid() || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd.get(), backlog) != 0 ||
        !set_nonblocking(fd.get())) {
      if (!errors.empty()) errors += "; ";
      errors += std::strerror(errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0) return Status::error(std::strerror(errno));
    bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    out = std::move(fd);
    return Status::ok();
  }
  return Status::error(fmt::format("listen {}:{}: {}", address.host, address.port, errors));
}

void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace ipattrib::tls
