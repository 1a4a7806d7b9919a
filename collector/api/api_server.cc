#include "collector/api/api_server.h"

#include "collector/api/request_body.h"
#include "ipattrib/listen_address.h"

namespace ipattrib::collector {

Status make_api_server(const ApiConfig& config, std::unique_ptr<httplib::Server>& server) {
  if (config.tls_cert.empty()) {
    server = std::make_unique<httplib::Server>();
    // httplib's default is unbounded: a client could make it buffer any size.
    server->set_payload_max_length(kMaxRequestBodyBytes);
    // Without it a keep-alive client waits out Nagle and delayed ACK: every
    // answer took ~43 ms instead of ~0.1 ms in bench/api_query_bench.
    server->set_tcp_nodelay(true);
    // A second collector on the same [api] listen must fail to start.
    server->set_socket_options(exclusive_listen_socket_options);
    return Status::ok();
  }
  auto tls = std::make_unique<httplib::SSLServer>(config.tls_cert.c_str(), config.tls_key.c_str());
  if (!tls->is_valid()) {
    return Status::error("[api] cannot load tls_cert " + config.tls_cert + " / tls_key " + config.tls_key);
  }
  tls->set_payload_max_length(kMaxRequestBodyBytes);
  tls->set_tcp_nodelay(true);
  tls->set_socket_options(exclusive_listen_socket_options);
  server = std::move(tls);
  return Status::ok();
}

}  // namespace ipattrib::collector
