// QueryApi: the collector's HTTP/JSON query API over a LedgerStore — account
// -> IPs, account -> accesses (cursor paged), IP/CIDR -> accounts, an
// account's full export, /healthz and /metrics; with set_alerts, the
// special-measures alerts (see alert_routes.h). It only registers routes on a
// server the caller owns (plain or TLS, see make_api_server), so the
// collector decides threads and lifetime and can append its own metrics.
// Every /v1 request needs `Authorization: Bearer <token>`; docs/api.md is the
// contract.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector/api/alert_routes.h"
#include "collector/api/api_config.h"
#include "collector/api/api_metrics.h"
#include "collector/api/api_reply.h"
#include "collector/api/bearer_token_verifier.h"
#include "collector/ledger/ledger_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ipattrib::collector {

class QueryApi {
 public:
  // Appends Prometheus text (complete families, "\n"-terminated lines).
  using MetricsWriter = std::function<void(std::string& out)>;

  // store must outlive the server the routes are registered on.
  QueryApi(LedgerStore& store, const ApiConfig& config);

  // Call before the server starts listening.
  void set_extra_metrics(MetricsWriter writer) { extra_metrics_ = std::move(writer); }
  // Serves /v1/alerts, /v1/measures and /v1/scan from `endpoints`; without
  // this call (or with parts left empty) those routes answer 503.
  void set_alerts(AlertEndpoints endpoints) { alert_routes_.set_endpoints(std::move(endpoints)); }
  void register_routes(httplib::Server& server);
  // SIGHUP: the accepted bearer tokens from then on (thread-safe).
  void set_tokens(const std::vector<std::string>& token_sha256);

  const ApiMetrics& metrics() const { return metrics_; }

 private:
  using Reply = ApiReply;
  void serve(const std::string& fixed_route, const httplib::Request& req, httplib::Response& res);
  std::string dispatch(const std::string& fixed_route, const httplib::Request& req, Reply& reply);
  std::string dispatch_v1(const httplib::Request& req, Reply& reply);
  void healthz(Reply& reply);
  void metrics_text(Reply& reply);
  void account_ips(const std::string& account, const httplib::Request& req, Reply& reply);
  void account_accesses(const std::string& account, const httplib::Request& req, Reply& reply);
  void account_export(const std::string& account, const httplib::Request& req, Reply& reply);
  void network_accounts(const std::string& network, const httplib::Request& req, Reply& reply);
  // False (and a 404 or 500 in reply) when the account is unknown or the store fails.
  bool known_account(const std::string& account, const char* empty_list, Reply& reply);
  bool authorized(const httplib::Request& req) const;

  LedgerStore& store_;
  ApiConfig config_;
  mutable std::mutex tokens_mutex_;
  std::shared_ptr<const BearerTokenVerifier> tokens_;
  ApiMetrics metrics_;
  MetricsWriter extra_metrics_;
  AlertRoutes alert_routes_;
};

}  // namespace ipattrib::collector
