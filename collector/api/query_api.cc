#include "collector/api/query_api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

#include "collector/api/access_cursor_token.h"
#include "collector/api/account_export_csv.h"
#include "collector/api/ledger_json.h"
#include "collector/api/request_params.h"
#include "collector/api/request_path.h"

namespace ipattrib::collector {

QueryApi::QueryApi(LedgerStore& store, const ApiConfig& config)
    : store_(store),
      config_(config),
      tokens_(std::make_shared<BearerTokenVerifier>(config.token_sha256)),
      alert_routes_(config.max_page) {}

void QueryApi::set_tokens(const std::vector<std::string>& token_sha256) {
  auto tokens = std::make_shared<const BearerTokenVerifier>(token_sha256);
  std::lock_guard<std::mutex> lock(tokens_mutex_);
  tokens_ = std::move(tokens);
}

void QueryApi::register_routes(httplib::Server& server) {
  server.Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) { serve("healthz", req, res); });
  server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) { serve("metrics", req, res); });
  // [\s\S]: decoded paths may hold any byte, including newlines.
  server.Get(R"(/v1/[\s\S]*)", [this](const httplib::Request& req, httplib::Response& res) { serve("", req, res); });
  server.Post(R"(/v1/[\s\S]*)", [this](const httplib::Request& req, httplib::Response& res) { serve("", req, res); });
}

void QueryApi::serve(const std::string& fixed_route, const httplib::Request& req, httplib::Response& res) {
  const auto start = std::chrono::steady_clock::now();
  Reply reply;
  std::string route;
  try {
    route = dispatch(fixed_route, req, reply);
  } catch (const std::exception& e) {
    spdlog::error("query api: {} failed: {}", fixed_route.empty() ? "v1" : fixed_route, e.what());
    reply.error(500, "internal error");
    route = fixed_route.empty() ? "v1" : fixed_route;
  }
  res.status = reply.status;
  if (reply.status == 401) res.set_header("WWW-Authenticate", "Bearer");
  res.set_content(std::move(reply.body), reply.content_type.c_str());
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  metrics_.record(route, reply.status, elapsed.count());
}

std::string QueryApi::dispatch(const std::string& fixed_route, const httplib::Request& req, Reply& reply) {
  if (fixed_route == "healthz") {
    healthz(reply);
    return fixed_route;
  }
  if (fixed_route == "metrics") {
    if (config_.metrics_require_token && !authorized(req)) {
      reply.error(401, "missing or invalid bearer token");
    } else {
      metrics_text(reply);
    }
    return fixed_route;
  }
  return dispatch_v1(req, reply);
}

std::string QueryApi::dispatch_v1(const httplib::Request& req, Reply& reply) {
  if (!authorized(req)) {
    reply.error(401, "missing or invalid bearer token");
    return "v1";
  }
  std::vector<std::string> seg;
  if (!split_request_path(req.target, seg)) {
    reply.error(400, "malformed percent-encoding in path");
    return "v1";
  }
  // seg[0] is "v1" (the route pattern guarantees it).
  if (AlertRoutes::owns(seg)) return alert_routes_.dispatch(req, seg, reply);
  if (req.method != "GET") {
    reply.error(405, "use GET");
    return "v1";
  }
  if (seg.size() == 4 && seg[1] == "accounts") {
    if (seg[2].empty()) {
      reply.error(400, "empty account");
      return "v1";
    }
    if (seg[3] == "ips") {
      account_ips(seg[2], req, reply);
      return "account_ips";
    }
    if (seg[3] == "accesses") {
      account_accesses(seg[2], req, reply);
      return "account_accesses";
    }
    if (seg[3] == "export") {
      account_export(seg[2], req, reply);
      return "account_export";
    }
  }
  // A network's '/' may arrive encoded (one segment) or raw (two segments).
  if ((seg.size() == 4 || seg.size() == 5) && seg[1] == "ips" && seg.back() == "accounts") {
    network_accounts(seg.size() == 4 ? seg[2] : seg[2] + "/" + seg[3], req, reply);
    return "ip_accounts";
  }
  reply.error(404, "no such endpoint");
  return "v1";
}

bool QueryApi::authorized(const httplib::Request& req) const {
  std::shared_ptr<const BearerTokenVerifier> tokens;
  {
    std::lock_guard<std::mutex> lock(tokens_mutex_);
    tokens = tokens_;
  }
  return tokens->accepts_header(req.get_header_value("Authorization"));
}

void QueryApi::healthz(Reply& reply) {
  bool exists = false;
  Status s = store_.account_exists("", exists);
  if (!s) {
    spdlog::warn("query api: healthz: store unreachable: {}", s.message());
    reply.json(503, {{"status", "unavailable"}, {"error", "store unreachable"}});
    return;
  }
  reply.json(200, {{"status", "ok"}});
}

void QueryApi::metrics_text(Reply& reply) {
  std::string text;
  metrics_.write_prometheus(text);
  if (extra_metrics_) extra_metrics_(text);
  reply.status = 200;
  reply.body = std::move(text);
  reply.content_type = "text/plain; version=0.0.4";
}

bool QueryApi::known_account(const std::string& account, const char* empty_list, Reply& reply) {
  bool exists = false;
  Status s = store_.account_exists(account, exists);
  if (!s) {
    spdlog::error("query api: store: {}", s.message());
    reply.error(500, "store error");
    return false;
  }
  if (!exists) {
    nlohmann::json body = {{"error", "unknown account"}};
    if (empty_list != nullptr) body[empty_list] = nlohmann::json::array();
    reply.json(404, body);
    return false;
  }
  return true;
}

void QueryApi::account_ips(const std::string& account, const httplib::Request& req, Reply& reply) {
  AccountIpsQuery q;
  q.account = account;
  std::string error;
  if (!only_params(req, {"since", "until", "class", "country", "limit", "offset"}, error) ||
      !read_range(req, q.range, error) || !read_class(req, q.access_class, error) ||
      !read_country(req, q.country, error) || !read_limit(req, config_.max_page, q.limit, error) ||
      !read_unsigned(req, "offset", q.offset, error)) {
    reply.error(400, error);
    return;
  }
  if (!known_account(account, "ips", reply)) return;
  Page<IpSummary> page;
  if (Status s = store_.account_ips(q, page); !s) {
    spdlog::error("query api: store: {}", s.message());
    reply.error(500, "store error");
    return;
  }
  nlohmann::json ips = nlohmann::json::array();
  for (const IpSummary& summary : page.items) ips.push_back(summary_json(summary, false));
  reply.json(200, {{"account", account},
                   {"ips", std::move(ips)},
                   {"next_offset", page.more ? nlohmann::json(q.offset + page.items.size()) : nlohmann::json()}});
}

void QueryApi::account_accesses(const std::string& account, const httplib::Request& req, Reply& reply) {
  AccountAccessesQuery q;
  q.account = account;
  std::string error;
  if (!only_params(req, {"ip", "since", "until", "class", "limit", "cursor"}, error) ||
      !read_range(req, q.range, error) || !read_class(req, q.access_class, error) ||
      !read_limit(req, config_.max_page, q.limit, error)) {
    reply.error(400, error);
    return;
  }
  if (req.has_param("ip")) {
    q.ip = IpAddress::parse(req.get_param_value("ip"));
    if (!q.ip) {
      reply.error(400, "ip must be an IPv4 or IPv6 address");
      return;
    }
  }
  if (req.has_param("cursor") && !decode_access_cursor(req.get_param_value("cursor"), q.after)) {
    reply.error(400, "cursor is not one this API returned");
    return;
  }
  if (!known_account(account, "accesses", reply)) return;
  AccessPage page;
  if (Status s = store_.account_accesses(q, page); !s) {
    spdlog::error("query api: store: {}", s.message());
    reply.error(500, "store error");
    return;
  }
  nlohmann::json accesses = nlohmann::json::array();
  for (const Access& a : page.items) accesses.push_back(access_json(a));
  reply.json(200, {{"account", account},
                   {"accesses", std::move(accesses)},
                   {"next_cursor", page.next ? nlohmann::json(encode_access_cursor(*page.next)) : nlohmann::json()}});
}

void QueryApi::account_export(const std::string& account, const httplib::Request& req, Reply& reply) {
  std::string error;
  if (!only_params(req, {"format"}, error)) {
    reply.error(400, error);
    return;
  }
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv") {
    reply.error(400, "format must be csv or json");
    return;
  }
  if (!known_account(account, nullptr, reply)) {
    if (reply.status == 404)
      reply.json(
          404, {{"error", "unknown account"}, {"ips", nlohmann::json::array()}, {"accesses", nlohmann::json::array()}});
    return;
  }
  AccountExport record;
  if (Status s = store_.export_account(account, record); !s) {
    spdlog::error("query api: store: {}", s.message());
    reply.error(500, "store error");
    return;
  }
  if (format == "csv") {
    reply.status = 200;
    reply.body = export_csv(account, record);
    reply.content_type = "text/csv; charset=utf-8";
  } else {
    reply.json(200, export_json(account, record));
  }
}

void QueryApi::network_accounts(const std::string& network, const httplib::Request& req, Reply& reply) {
  NetworkAccountsQuery q;
  std::string error;
  if (!only_params(req, {"since", "until", "limit", "offset"}, error) || !read_range(req, q.range, error) ||
      !read_limit(req, config_.max_page, q.limit, error) || !read_unsigned(req, "offset", q.offset, error)) {
    reply.error(400, error);
    return;
  }
  const std::optional<Cidr> cidr = Cidr::parse(network);
  if (!cidr) {
    reply.error(400, "not an IP address or CIDR network");
    return;
  }
  q.network = *cidr;
  Page<IpSummary> page;
  if (Status s = store_.network_accounts(q, page); !s) {
    spdlog::error("query api: store: {}", s.message());
    reply.error(500, "store error");
    return;
  }
  nlohmann::json accounts = nlohmann::json::array();
  for (const IpSummary& summary : page.items) accounts.push_back(summary_json(summary, true));
  reply.json(200, {{"network", cidr->to_string()},
                   {"accounts", std::move(accounts)},
                   {"next_offset", page.more ? nlohmann::json(q.offset + page.items.size()) : nlohmann::json()}});
}

}  // namespace ipattrib::collector
