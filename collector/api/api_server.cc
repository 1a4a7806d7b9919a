#include "collector/api/api_server.h"

#include "collector/api/request_body.h"

namespace ipattrib::collector {

Status make_api_server(const ApiConfig& config, std::unique_ptr<httplib::Server>& server) {
  if (config.tls_cert.empty()) {
    server = std::make_unique<httplib::Server>();
    // httplib's default is unbounded: a client could make it buffer any size.
    server->set_payload_max_length(kMaxRequestBodyBytes);
    return Status::ok();
  }
  auto tls = std::make_unique<httplib::SSLServer>(config.tls_cert.c_str(), config.tls_key.c_str());
  if (!tls->is_valid()) {
    return Status::error("[api] cannot load tls_cert " + config.tls_cert + " / tls_key " + config.tls_key);
  }
  tls->set_payload_max_length(kMaxRequestBodyBytes);
  server = std::move(tls);
  return Status::ok();
}

}  // namespace ipattrib::collector
