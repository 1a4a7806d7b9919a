// Where a syslog sink sends: a local datagram socket, or a UDP or TCP host.
#pragma once

#include <string>

#include "common/tls/tcp_socket.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct SyslogAddress {
  enum class Transport { kUnix, kUdp, kTcp };
  Transport transport = Transport::kUnix;
  std::string path;         // kUnix
  tls::HostPort host_port;  // kUdp, kTcp
};

// "unix:/dev/log", "udp:host:port", "tcp:host:port" ("[v6]:port" for v6).
Status parse_syslog_address(const std::string& text, SyslogAddress& out);
// "auth" -> 4, "daemon" -> 3, "local0" -> 16, ... (RFC 5424 facility codes).
bool parse_syslog_facility(const std::string& name, int& code);

}  // namespace ipattrib::collector
