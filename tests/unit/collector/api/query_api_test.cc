// The query API end to end: a real httplib server over a real SQLite ledger,
// every route exercised through an HTTP client.
#include "collector/api/query_api.h"

#include <gtest/gtest.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "collector/api/bearer_token_verifier.h"
#include "collector/api/rfc3339.h"
#include "tests/unit/collector/api/api_test_server.h"

namespace ipattrib::collector {
namespace {

using nlohmann::json;
using testing::ApiTestServer;
using testing::kBase;

// Percent-encodes every byte but unreserved ones, as a careful client does.
std::string encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

class QueryApiTest : public ::testing::Test {
 protected:
  json get_json(const std::string& path, int expected_status = 200) {
    auto [status, body] = server_.get(path);
    EXPECT_EQ(status, expected_status) << path << " -> " << body;
    json j = json::parse(body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << body;
    return j;
  }
  ApiTestServer server_;
};

TEST_F(QueryApiTest, AccountIpsReturnsEverySummaryWithGeo) {
  json j = get_json("/v1/accounts/acme/ips");
  EXPECT_EQ(j["account"], "acme");
  EXPECT_TRUE(j["next_offset"].is_null());
  ASSERT_EQ(j["ips"].size(), 4u);
  json admin;
  for (const json& s : j["ips"]) {
    if (s["ip"] == "203.0.113.5" && s["class"] == "admin") admin = s;
  }
  json geo = {{"country", "DE"},
              {"registered_country", ""},
              {"subdivision", "DE-BE"},
              {"asn", 64500},
              {"as_org", "Example, \"Net\" AG"},
              {"anonymizer", {"anonymous_vpn", "tor_exit_node"}},
              {"db_build", "2023-07-22T04:26:40.000Z"}};
  json expected = {{"ip", "203.0.113.5"},
                   {"class", "admin"},
                   {"ip_source", "x_forwarded_for"},
                   {"first_seen", "2023-11-14T22:13:25.000Z"},
                   {"last_seen", "2023-11-14T22:13:26.000Z"},
                   {"count", 2},
                   {"first_geo", geo},
                   {"last_geo", geo},
                   {"gateways", {"gw2"}},
                   {"principal", "alice"}};
  EXPECT_EQ(admin, expected) << admin.dump(2);
}

TEST_F(QueryApiTest, AccountIpsFilters) {
  EXPECT_EQ(get_json("/v1/accounts/acme/ips?class=admin")["ips"].size(), 1u);
  json fr = get_json("/v1/accounts/acme/ips?country=fr");
  ASSERT_EQ(fr["ips"].size(), 1u);
  EXPECT_EQ(fr["ips"][0]["ip"], "2001:db8::1");
  // 10.1.2.3 was seen at kBase+3000..3001 only.
  json window = get_json("/v1/accounts/acme/ips?since=" + std::to_string(kBase + 2500) +
                         "&until=" + encode(format_rfc3339_ms(kBase + 3500)));
  ASSERT_EQ(window["ips"].size(), 1u);
  EXPECT_EQ(window["ips"][0]["ip"], "10.1.2.3");
  json offset_form = get_json("/v1/accounts/acme/ips?since=" + encode("2023-11-14T23:13:22.500+01:00") +
                              "&until=2023-11-14T22:13:23.500Z");
  EXPECT_EQ(offset_form["ips"], window["ips"]);
}

TEST_F(QueryApiTest, AccountIpsPagesByOffset) {
  std::set<std::string> seen;
  std::string path = "/v1/accounts/acme/ips?limit=1";
  for (int pages = 0; pages < 10; ++pages) {
    json j = get_json(path);
    ASSERT_EQ(j["ips"].size(), 1u);
    seen.insert(j["ips"][0]["ip"].get<std::string>() + "/" + j["ips"][0]["class"].get<std::string>());
    if (j["next_offset"].is_null()) break;
    path = "/v1/accounts/acme/ips?limit=1&offset=" + std::to_string(j["next_offset"].get<int>());
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(QueryApiTest, AccessesPageThroughCursorsCompletelyAndInOrder) {
  AccountExport record;
  ASSERT_TRUE(server_.store().export_account("acme", record));
  std::vector<json> all;
  std::string cursor;
  int pages = 0;
  for (;; ++pages) {
    ASSERT_LT(pages, 100);
    json j = get_json("/v1/accounts/acme/accesses?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const json& a : j["accesses"]) all.push_back(a);
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].get<std::string>();
  }
  ASSERT_EQ(all.size(), record.accesses.size());
  EXPECT_EQ(all.size(), 250u + 2 + 1 + 2);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]["time_ms"], record.accesses[i].time_ms);
    EXPECT_EQ(all[i]["time"], format_rfc3339_ms(record.accesses[i].time_ms));
    EXPECT_EQ(all[i]["ip"], record.accesses[i].ip.to_string());
  }
  EXPECT_EQ(all[0], json({{"time", "2023-11-14T22:13:21.000Z"},
                          {"time_ms", kBase + 1000},
                          {"ip", "203.0.113.5"},
                          {"class", "access"},
                          {"gateway", "gw1"}}));
}

TEST_F(QueryApiTest, AccessesFilterByIpClassAndTime) {
  json v6 = get_json("/v1/accounts/acme/accesses?ip=2001:db8::1");
  ASSERT_EQ(v6["accesses"].size(), 1u);
  EXPECT_EQ(v6["accesses"][0]["time_ms"], kBase + 2000);
  EXPECT_EQ(get_json("/v1/accounts/acme/accesses?class=admin")["accesses"].size(), 2u);
  json window = get_json("/v1/accounts/acme/accesses?since=" + std::to_string(kBase + 3000) +
                         "&until=" + std::to_string(kBase + 5000));
  EXPECT_EQ(window["accesses"].size(), 3u);  // 3000, 3001, 5000
}

TEST_F(QueryApiTest, NetworkAccountsAcceptsEncodedAndRawSlash) {
  json encoded = get_json("/v1/ips/10.0.0.0%2F8/accounts");
  json raw = get_json("/v1/ips/10.0.0.0/8/accounts");
  EXPECT_EQ(encoded, raw);
  EXPECT_EQ(encoded["network"], "10.0.0.0/8");
  std::set<std::string> accounts;
  for (const json& s : encoded["accounts"])
    accounts.insert(s["account"].get<std::string>() + "@" + s["ip"].get<std::string>());
  EXPECT_EQ(accounts, (std::set<std::string>{"acme@10.1.2.3", "other@10.1.2.3", "other@10.9.9.9"}));
  json single = get_json("/v1/ips/10.9.9.9/accounts");
  ASSERT_EQ(single["accounts"].size(), 1u);
  EXPECT_EQ(single["accounts"][0]["account"], "other");
  json v6 = get_json("/v1/ips/2001%3Adb8%3A%3A%2F32/accounts");
  EXPECT_EQ(v6["network"], "2001:db8::/32");
  EXPECT_EQ(v6["accounts"].size(), 2u);
  EXPECT_EQ(get_json("/v1/ips/2001:db8::/48/accounts")["accounts"].size(), 2u);
  EXPECT_EQ(get_json("/v1/ips/192.0.2.1/accounts")["accounts"].size(), 0u);
  json later = get_json("/v1/ips/10.0.0.0%2F8/accounts?since=" + std::to_string(kBase + 50000));
  ASSERT_EQ(later["accounts"].size(), 1u);
  EXPECT_EQ(later["accounts"][0]["account"], "other");
}

TEST_F(QueryApiTest, UnknownAccountIs404WithEmptyResult) {
  json ips = get_json("/v1/accounts/nobody/ips", 404);
  EXPECT_EQ(ips, json({{"error", "unknown account"}, {"ips", json::array()}}));
  EXPECT_EQ(get_json("/v1/accounts/nobody/accesses", 404)["accesses"], json::array());
  json exported = get_json("/v1/accounts/nobody/export?format=csv", 404);
  EXPECT_EQ(exported["ips"], json::array());
  EXPECT_EQ(get_json("/v1/nothing/here", 404)["error"], "no such endpoint");
  EXPECT_EQ(get_json("/v1/accounts/acme/ips/extra", 404)["error"], "no such endpoint");
}

TEST_F(QueryApiTest, BadParametersAre400) {
  for (const char* path :
       {"/v1/accounts/acme/ips?since=yesterday", "/v1/accounts/acme/ips?since=2023-02-30T00:00:00Z",
        "/v1/accounts/acme/ips?since=5&until=4", "/v1/accounts/acme/ips?class=root", "/v1/accounts/acme/ips?limit=0",
        "/v1/accounts/acme/ips?limit=-1", "/v1/accounts/acme/ips?offset=x", "/v1/accounts/acme/ips?country=USA",
        "/v1/accounts/acme/ips?contry=US", "/v1/accounts/acme/ips?class=admin&class=access",
        "/v1/accounts/acme/accesses?cursor=!!", "/v1/accounts/acme/accesses?cursor=bm90LWEtY3Vyc29y",
        "/v1/accounts/acme/accesses?ip=300.1.1.1", "/v1/accounts/acme/export?format=xml",
        "/v1/ips/10.0.0.0%2F33/accounts", "/v1/ips/not-an-ip/accounts", "/v1/accounts/ac%zzme/ips",
        "/v1/accounts//ips"}) {
    json j = get_json(path, 400);
    EXPECT_TRUE(j["error"].is_string()) << path;
  }
}

TEST_F(QueryApiTest, LimitAboveMaxPageIsLowered) {
  json j = get_json("/v1/accounts/acme/accesses?limit=999999999");
  EXPECT_EQ(j["accesses"].size(), 255u);  // max_page 1000 > all
}

TEST_F(QueryApiTest, BearerTokenRequired) {
  for (const std::string& token : {std::string(), std::string("wrong"), std::string(testing::kTestToken) + "x"}) {
    auto [status, body] = server_.get("/v1/accounts/acme/ips", token);
    EXPECT_EQ(status, 401);
    EXPECT_EQ(json::parse(body)["error"], "missing or invalid bearer token");
    EXPECT_EQ(body.find(testing::kTestToken), std::string::npos);
  }
  httplib::Client client("127.0.0.1", server_.port());
  auto basic = client.Get("/v1/accounts/acme/ips", {{"Authorization", std::string("Basic ") + testing::kTestToken}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 401);
  EXPECT_EQ(basic->get_header_value("WWW-Authenticate"), "Bearer");
  // Unauthenticated requests learn nothing, not even whether the account exists.
  EXPECT_EQ(server_.get("/v1/accounts/nobody/ips", "").first, 401);
  EXPECT_EQ(server_.get("/healthz", "").first, 200);
  EXPECT_EQ(server_.get("/metrics", "").first, 200);
}

TEST(QueryApiMetricsTokenTest, MetricsCanRequireToken) {
  ApiConfig config;
  config.metrics_require_token = true;
  ApiTestServer server(config);
  EXPECT_EQ(server.get("/metrics", "").first, 401);
  EXPECT_EQ(server.get("/metrics").first, 200);
  EXPECT_EQ(server.get("/healthz", "").first, 200);
}

TEST_F(QueryApiTest, HostileAccountIdsRoundTrip) {
  for (const std::string& account : testing::hostile_accounts()) {
    json j = get_json("/v1/accounts/" + encode(account) + "/ips");
    EXPECT_EQ(j["account"], account);
    ASSERT_EQ(j["ips"].size(), 1u) << account;
    EXPECT_EQ(j["ips"][0]["ip"], "198.51.100.9");
    json exported = get_json("/v1/accounts/" + encode(account) + "/export?format=json");
    EXPECT_EQ(exported["account"], account);
    EXPECT_EQ(exported["accesses"].size(), 1u);
  }
  // The ledger still holds every table and row afterwards.
  EXPECT_EQ(get_json("/v1/accounts/acme/ips")["ips"].size(), 4u);
  // A prefix of a hostile id is a different (unknown) account.
  get_json("/v1/accounts/nul/ips", 404);
  get_json("/v1/accounts/a/ips", 404);
}

TEST_F(QueryApiTest, InvalidUtf8IsReplacedNotFatal) {
  json j = get_json("/v1/accounts/badutf8/ips");
  ASSERT_EQ(j["ips"].size(), 1u);
  EXPECT_EQ(j["ips"][0]["last_geo"]["as_org"], "bad \xef\xbf\xbd\xef\xbf\xbd org");
}

// Minimal RFC 4180 reader for the assertions below.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(cell));
      cell.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(std::move(cell));
      cell.clear();
      rows.emplace_back();
      ++i;
    } else {
      cell.push_back(c);
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST_F(QueryApiTest, CsvExportQuotesAndDisarmsFormulas) {
  auto [status, body] = server_.get("/v1/accounts/acme/export?format=csv");
  ASSERT_EQ(status, 200);
  auto rows = parse_csv(body);
  ASSERT_EQ(rows.size(), 1u + 255u);
  EXPECT_EQ(rows[0][0], "account");
  EXPECT_EQ(rows[0][3], "access_time");
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  bool saw_admin = false;
  for (const auto& row : rows) {
    if (row[2] == "admin") {
      saw_admin = true;
      EXPECT_EQ(row[11], "Example, \"Net\" AG");
      EXPECT_EQ(row[10], "64500");
      EXPECT_EQ(row[12], "anonymous_vpn tor_exit_node");
    }
  }
  EXPECT_TRUE(saw_admin);
  EXPECT_NE(body.find("\"Example, \"\"Net\"\" AG\""), std::string::npos);

  const std::string formula = "=cmd|' /C calc'!A0";
  auto [s2, hostile] = server_.get("/v1/accounts/" + encode(formula) + "/export?format=csv");
  ASSERT_EQ(s2, 200);
  auto hrows = parse_csv(hostile);
  ASSERT_EQ(hrows.size(), 2u);
  EXPECT_EQ(hrows[1][0], "'" + formula);
  auto [s3, other] = server_.get("/v1/accounts/other/export?format=csv");
  ASSERT_EQ(s3, 200);
  auto orows = parse_csv(other);
  ASSERT_EQ(orows.size(), 3u);
  EXPECT_EQ(orows[1][4], "'-gw");  // gateway "-gw"
}

TEST_F(QueryApiTest, JsonExportIsTheWholeRecord) {
  AccountExport record;
  ASSERT_TRUE(server_.store().export_account("acme", record));
  json j = get_json("/v1/accounts/acme/export");
  EXPECT_EQ(j["account"], "acme");
  ASSERT_EQ(j["ips"].size(), record.ips.size());
  ASSERT_EQ(j["accesses"].size(), record.accesses.size());
  EXPECT_EQ(j["accesses"].back()["time_ms"], record.accesses.back().time_ms);
}

TEST_F(QueryApiTest, HealthzReportsStore) { EXPECT_EQ(get_json("/healthz"), json({{"status", "ok"}})); }

TEST(QueryApiMetricsTest, MetricsAreParseablePrometheusText) {
  ApiTestServer server;
  server.api().set_extra_metrics(
      [](std::string& out) { out += "# TYPE ipattrib_collector_test gauge\nipattrib_collector_test 7\n"; });
  server.get("/v1/accounts/acme/ips");
  server.get("/v1/accounts/nobody/ips");
  server.get("/v1/accounts/acme/ips", "bad");
  auto [status, text] = server.get("/metrics");
  ASSERT_EQ(status, 200);
  const std::regex sample(R"re(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? -?[0-9.e+-]+$)re");
  std::istringstream lines(text);
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.rfind("# ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
  EXPECT_NE(text.find("ipattrib_api_requests_total{route=\"account_ips\",status=\"200\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ipattrib_api_requests_total{route=\"account_ips\",status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ipattrib_api_requests_total{route=\"v1\",status=\"401\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ipattrib_api_request_duration_seconds_bucket{route=\"account_ips\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ipattrib_collector_test 7\n"), std::string::npos);
  EXPECT_EQ(text.find("acme"), std::string::npos);  // no account ids in labels
}

}  // namespace
}  // namespace ipattrib::collector
