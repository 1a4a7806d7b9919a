#include "collector/alerts/sinks/syslog_address.h"

#include <sys/un.h>

#include <array>
#include <utility>

namespace ipattrib::collector {

Status parse_syslog_address(const std::string& text, SyslogAddress& out) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) return Status::error("expected unix:PATH, udp:HOST:PORT or tcp:HOST:PORT");
  const std::string scheme = text.substr(0, colon);
  const std::string rest = text.substr(colon + 1);
  if (scheme == "unix") {
    if (rest.empty() || rest.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::error("unix socket path is empty or too long");
    }
    out.transport = SyslogAddress::Transport::kUnix;
    out.path = rest;
    return Status::ok();
  }
  if (scheme != "udp" && scheme != "tcp") return Status::error("unknown transport '" + scheme + "' (unix, udp, tcp)");
  out.transport = scheme == "udp" ? SyslogAddress::Transport::kUdp : SyslogAddress::Transport::kTcp;
  if (Status s = tls::parse_host_port(rest, out.host_port); !s) return s;
  if (out.host_port.port == 0) return Status::error("port 0 is not a destination");
  return Status::ok();
}

bool parse_syslog_facility(const std::string& name, int& code) {
  static constexpr std::array<std::pair<const char*, int>, 12> kFacilities = {{
      {"user", 1},
      {"daemon", 3},
      {"auth", 4},
      {"authpriv", 10},
      {"local0", 16},
      {"local1", 17},
      {"local2", 18},
      {"local3", 19},
      {"local4", 20},
      {"local5", 21},
      {"local6", 22},
      {"local7", 23},
  }};
  for (const auto& [n, c] : kFacilities) {
    if (name == n) {
      code = c;
      return true;
    }
  }
  return false;
}

}  // namespace ipattrib::collector
