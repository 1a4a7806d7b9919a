#include "collector/alerts/sinks/syslog_sink.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collector/alerts/alert_json.h"
#include "collector/alerts/sinks/syslog_address.h"
#include "collector/api/rfc3339.h"

namespace ipattrib::collector {
namespace {

constexpr int kIoTimeoutMs = 5000;
// RFC 5612's example enterprise number: the SD-ID is ours without
// registering one.
constexpr const char kSdId[] = "ipattrib@32473";

// SD-PARAM values escape '"', '\' and ']' (RFC 5424 6.3.3).
std::string sd_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// HOSTNAME and the like: printable US-ASCII or "-".
std::string header_token(std::string text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (c >= 33 && c <= 126 && out.size() < max) out.push_back(c);
  }
  return out.empty() ? "-" : out;
}

Status errno_status(const char* what) {
  return Status::error(fmt::format("syslog {}: {}", what, std::strerror(errno)));
}

// Waits until fd is writable or the timeout passes.
Status wait_writable(int fd) {
  pollfd p{fd, POLLOUT, 0};
  const int n = ::poll(&p, 1, kIoTimeoutMs);
  if (n < 0) return errno_status("poll");
  if (n == 0) return Status::error("syslog send timed out");
  return Status::ok();
}

// Datagram sockets stay blocking; a full /dev/log must not hold the
// worker forever.
void set_send_timeout(int fd) {
  timeval tv{kIoTimeoutMs / 1000, (kIoTimeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

Status send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Status s = wait_writable(fd); !s) return s;
    } else if (n < 0 && errno != EINTR) {
      return errno_status("send");
    }
  }
  return Status::ok();
}

class SyslogSink final : public AlertSink {
 public:
  SyslogSink(std::string name, SyslogAddress address, SyslogHeader header)
      : name_(std::move(name)), address_(std::move(address)), header_(std::move(header)) {}

  const std::string& name() const override { return name_; }

  Status deliver(const Alert& alert) override {
    const std::string message = format_syslog_message(alert, header_);
    if (!fd_.valid() || peer_closed()) {
      fd_.reset();
      if (Status s = connect(); !s) return s;
    }
    Status s;
    if (address_.transport == SyslogAddress::Transport::kTcp) {
      s = send_all(fd_.get(), fmt::format("{} {}", message.size(), message));  // RFC 6587 octet counting
    } else {
      // One datagram per message: it arrives whole or not at all.
      const ssize_t n = ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
      s = n == static_cast<ssize_t>(message.size()) ? Status::ok() : errno_status("send");
    }
    if (!s) fd_.reset();  // reconnect on the next attempt
    return s;
  }

 private:
  // A TCP receiver that went away shows as readable with EOF: finding out
  // before sending keeps the next alert from vanishing into a dead socket.
  bool peer_closed() {
    if (address_.transport != SyslogAddress::Transport::kTcp) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte;
    const ssize_t n = ::recv(fd_.get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  Status connect() {
    switch (address_.transport) {
      case SyslogAddress::Transport::kTcp:
        return tls::connect_tcp(address_.host_port, kIoTimeoutMs, fd_);
      case SyslogAddress::Transport::kUdp:
        return connect_udp();
      case SyslogAddress::Transport::kUnix:
        return connect_unix();
    }
    return Status::error("syslog: unknown transport");
  }

  Status connect_unix() {
    tls::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return errno_status("socket");
    set_send_timeout(fd.get());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address_.path.data(), address_.path.size());
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Status::error(fmt::format("syslog connect {}: {}", address_.path, std::strerror(errno)));
    }
    fd_ = std::move(fd);
    return Status::ok();
  }

  Status connect_udp() {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(address_.host_port.port);
    if (const int rc = ::getaddrinfo(address_.host_port.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
      return Status::error(fmt::format("syslog resolve {}: {}", address_.host_port.host, ::gai_strerror(rc)));
    }
    Status s = Status::error("syslog: no usable address for " + address_.host_port.host);
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
      tls::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
      if (fd.valid() && ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
        set_send_timeout(fd.get());
        fd_ = std::move(fd);
        s = Status::ok();
        break;
      }
    }
    ::freeaddrinfo(list);
    return s;
  }

  std::string name_;
  SyslogAddress address_;
  SyslogHeader header_;
  tls::UniqueFd fd_;
};

}  // namespace

int syslog_severity(Severity severity) {
  switch (severity) {
    case Severity::kCritical:
      return 2;
    case Severity::kHigh:
      return 3;
    case Severity::kReview:
      return 4;
    case Severity::kInfo:
      return 6;
  }
  return 6;
}

std::string format_syslog_message(const Alert& alert, const SyslogHeader& header) {
  const AlertHit& hit = alert.first_hit;
  const int pri = header.facility * 8 + syslog_severity(hit.severity);
  return fmt::format(
      "<{}>1 {} {} {} {} alert [{} id=\"{}\" measure=\"{}\" severity=\"{}\" account=\"{}\" ip=\"{}\"] {}", pri,
      format_rfc3339_ms(alert.created_ms), header_token(header.hostname, 255), header_token(header.app_name, 48),
      header_token(header.procid, 128), kSdId, alert.id, sd_value(hit.measure_id), severity_name(hit.severity),
      sd_value(hit.account), hit.ip.to_string(), alert_json_text(alert));
}

Status open_syslog_sink(const SyslogSinkConfig& config, std::unique_ptr<AlertSink>& sink) {
  SyslogAddress address;
  if (Status s = parse_syslog_address(config.address, address); !s) return s;
  SyslogHeader header;
  if (!parse_syslog_facility(config.facility, header.facility)) {
    return Status::error("syslog facility '" + config.facility + "' is unknown");
  }
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) header.hostname = host;
  header.app_name = config.app_name;
  header.procid = std::to_string(::getpid());
  // Connected lazily by the first delivery: a syslog daemon that starts
  // after the collector is not an error.
  sink = std::make_unique<SyslogSink>(config.name, std::move(address), std::move(header));
  return Status::ok();
}

}  // namespace ipattrib::collector
