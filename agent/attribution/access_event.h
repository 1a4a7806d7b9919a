// AccessEvent: one attributed HTTP request — who (account, principal), from
// where (client IP and how it was found), what (method, host, target, class),
// when. String views are valid only while the event is being handled.
#pragma once

#include <cstdint>
#include <string_view>

#include "ipattrib/geo_info.h"
#include "ipattrib/ip_address.h"

namespace ipattrib::agent {

enum class IpSource : std::uint8_t { kSocket, kProxyProtocol, kForwarded, kXForwardedFor, kXRealIp };
enum class AccessClass : std::uint8_t { kAccess, kAdmin };

std::string_view to_string(IpSource source);
std::string_view to_string(AccessClass access_class);

struct AccessEvent {
  std::int64_t ts_us = 0;
  IpAddress client_ip;
  IpSource ip_source = IpSource::kSocket;
  IpAddress peer_ip;  // socket peer (the proxy when one forwarded)
  std::uint16_t peer_port = 0;
  IpAddress server_ip;
  std::uint16_t server_port = 0;
  std::string_view method;
  std::string_view host;    // Host header, empty when absent
  std::string_view target;  // exactly as on the request line
  bool has_account = false;
  std::string_view account;
  std::string_view principal;  // empty when no rule gives one
  AccessClass access_class = AccessClass::kAccess;
  GeoInfo geo;
};

class AccessEventSink {
 public:
  virtual ~AccessEventSink() = default;
  virtual void on_access(const AccessEvent& event) = 0;
  // A hint, given as soon as a request's client address is known and before
  // the rest of its attribution: an event for client_ip follows. Lets a stage
  // start fetching what it will need for it (the geo cache's lines).
  virtual void upcoming_client(const IpAddress& client_ip) { (void)client_ip; }
};

inline std::string_view to_string(IpSource source) {
  switch (source) {
    case IpSource::kSocket: return "socket";
    case IpSource::kProxyProtocol: return "proxy_protocol";
    case IpSource::kForwarded: return "forwarded";
    case IpSource::kXForwardedFor: return "x_forwarded_for";
    case IpSource::kXRealIp: return "x_real_ip";
  }
  return "socket";
}

inline std::string_view to_string(AccessClass access_class) {
  return access_class == AccessClass::kAdmin ? "admin" : "access";
}

}  // namespace ipattrib::agent
