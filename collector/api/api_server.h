// make_api_server: the httplib server the query API is served by — HTTPS
// (httplib::SSLServer) when [api] tls_cert/tls_key are set, plain HTTP
// otherwise; request bodies above kMaxRequestBodyBytes are refused (413).
#pragma once

#include <httplib.h>

#include <memory>

#include "collector/api/api_config.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// Fails when the certificate or key cannot be loaded.
Status make_api_server(const ApiConfig& config, std::unique_ptr<httplib::Server>& server);

}  // namespace ipattrib::collector
