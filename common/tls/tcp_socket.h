// TCP plumbing under TlsStream: "host:port" parsing, a connect with a
// timeout, a listening socket, and an owning file descriptor. Sockets are
// made non-blocking; every wait is a poll() with a timeout so no thread can
// hang on a dead peer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "ipattrib/status.h"

namespace ipattrib::tls {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct HostPort {
  std::string host;  // name, IPv4, or IPv6 without brackets
  std::uint16_t port = 0;
};

// "host:port", "1.2.3.4:5" or "[::1]:5". Port 0 is allowed (listen on any).
Status parse_host_port(const std::string& text, HostPort& out);

// Connects to the first address `host` resolves to that accepts within
// timeout_ms. The returned socket is non-blocking.
Status connect_tcp(const HostPort& address, int timeout_ms, UniqueFd& out);

// A non-blocking listening socket (SO_REUSEADDR, so a restarted collector
// gets its port back at once); bound_port says which port it got.
Status listen_tcp(const HostPort& address, int backlog, UniqueFd& out, std::uint16_t& bound_port);

// OpenSSL writes to sockets with write(2): a peer that vanished must show up
// as an error, not as SIGPIPE killing the process. Idempotent.
void ignore_sigpipe();

}  // namespace ipattrib::tls
