// Listen addresses as the configs write them: "host:port" or "[v6]:port"
// (the collector's [api] listen, the agent's [agent] metrics_listen).
#pragma once

#include <string>

namespace ipattrib {

// Splits "host:port" / "[v6]:port" into host (without brackets) and port
// (1..65535). False for anything else, e.g. an unbracketed v6 address.
bool split_listen_address(const std::string& listen, std::string& host, int& port);

}  // namespace ipattrib
