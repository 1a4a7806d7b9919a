// Listen addresses as the configs write them: "host:port" or "[v6]:port"
// (the collector's [api] listen, the agent's [agent] metrics_listen).
#pragma once

#include <string>

namespace ipattrib {

// Splits "host:port" / "[v6]:port" into host (without brackets) and port
// (1..65535). False for anything else, e.g. an unbracketed v6 address.
bool split_listen_address(const std::string& listen, std::string& host, int& port);

// Socket options for an HTTP listening socket (cpp-httplib's
// set_socket_options): SO_REUSEADDR, so a restart does not wait out TIME_WAIT,
// but not httplib's default SO_REUSEPORT, under which a second process on the
// same address would start and silently share the connections.
void exclusive_listen_socket_options(int fd);

}  // namespace ipattrib
