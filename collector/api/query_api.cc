#include "collector/api/query_api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <vector>

#include "collector/api/access_cursor_token.h"
#include "collector/api/ledger_json.h"
#include "collector/api/rfc3339.h"
#include "ipattrib/hex_digit.h"

namespace ipattrib::collector {

struct QueryApi::Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";

  void json(int code, const nlohmann::json& value) {
    status = code;
    body = dump_json(value);
    content_type = "application/json";
  }
  void error(int code, const std::string& message) { json(code, {{"error", message}}); }
};

namespace {

// Percent-decodes one path segment; false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit_value(in[i + 1]);
    const int lo = hex_digit_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// The raw (still percent-encoded) path segments of the request target, so an
// account id holding an encoded '/' stays one segment.
std::vector<std::string_view> raw_segments(const std::string& target) {
  std::string_view path(target);
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<std::string_view> segments;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// Parameters are checked against the endpoint's list so a typo ("contry")
// is an error instead of a silently unfiltered answer.
bool only_params(const httplib::Request& req, std::initializer_list<std::string_view> known, std::string& error) {
  for (const auto& [key, value] : req.params) {
    bool ok = false;
    for (std::string_view k : known) ok |= key == k;
    if (!ok) {
      error = "unknown parameter";
      return false;
    }
    if (req.get_param_value_count(key) > 1) {
      error = "parameter " + key + " given more than once";
      return false;
    }
  }
  return true;
}

bool read_range(const httplib::Request& req, TimeRange& range, std::string& error) {
  for (const char* name : {"since", "until"}) {
    if (!req.has_param(name)) continue;
    std::int64_t& bound = std::string_view(name) == "since" ? range.since_ms : range.until_ms;
    if (!parse_time_parameter(req.get_param_value(name), bound)) {
      error = std::string(name) + " must be RFC 3339 (2024-05-01T00:00:00Z) or epoch milliseconds";
      return false;
    }
  }
  if (range.since_ms > range.until_ms) {
    error = "since is after until";
    return false;
  }
  return true;
}

bool read_class(const httplib::Request& req, std::optional<RecordClass>& cls, std::string& error) {
  if (!req.has_param("class")) return true;
  const std::string value = req.get_param_value("class");
  if (value == "access") {
    cls = RecordClass::kAccess;
  } else if (value == "admin") {
    cls = RecordClass::kAdmin;
  } else {
    error = "class must be access or admin";
    return false;
  }
  return true;
}

bool read_unsigned(const httplib::Request& req, const char* name, std::uint64_t& value, std::string& error) {
  if (!req.has_param(name)) return true;
  const std::string text = req.get_param_value(name);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    error = std::string(name) + " must be a non-negative integer";
    return false;
  }
  return true;
}

// Limits above max_page are lowered to it (a client asking for "all" gets a
// full page and a way to the next); 0 is an error.
bool read_limit(const httplib::Request& req, std::uint32_t max_page, std::uint32_t& limit, std::string& error) {
  std::uint64_t value = max_page;
  if (!read_unsigned(req, "limit", value, error)) return false;
  if (value == 0) {
    error = "limit must be at least 1";
    return false;
  }
  limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(value, max_page));
  return true;
}

bool read_country(const httplib::Request& req, std::string& country, std::string& error) {
  if (!req.has_param("country")) return true;
  std::string value = req.get_param_value("country");
  if (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
      !std::isalpha(static_cast<unsigned char>(value[1]))) {
    error = "country must be an ISO 3166-1 alpha-2 code";
    return false;
  }
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  country = value;
  return true;
}

}  // namespace

QueryApi::QueryApi(LedgerStore& store, const ApiConfig& config)
    : store_(store), config_(config), tokens_(config.token_sha256) {}

void QueryApi::register_routes(httplib::Server& server) {
  server.Get("/healthz", [this](const httplib::Request& req, httplib::Response& res) { serve("healthz", req, res); });
  server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) { serve("metrics", req, res); });
  // [\s\S]: decoded paths may hold any byte, including newlines.
  server.Get(R"(/v1/[\s\S]*)", [this](const httplib::Request& req, httplib::Response& res) { serve("", req, res); });
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
  const std::vector<std::string_view> raw = raw_segments(req.target);
  std::vector<std::string> seg(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!percent_decode(raw[i], seg[i])) {
      reply.error(400, "malformed percent-encoding in path");
      return "v1";
    }
  }
  // seg[0] is "v1" (the route pattern guarantees it).
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
  return tokens_.accepts_header(req.get_header_value("Authorization"));
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
