#include "tests/unit/collector/api/api_test_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "collector/api/api_server.h"
#include "collector/api/bearer_token_verifier.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"

namespace ipattrib::collector::testing {
namespace {

AttributionRecord record(std::string account, const char* ip, std::vector<std::int64_t> times,
                         RecordClass cls = RecordClass::kAccess, std::string gateway = "gw1",
                         std::string country = "US") {
  AttributionRecord r;
  r.account = std::move(account);
  r.client_ip = *IpAddress::parse(ip);
  r.access_class = cls;
  r.gateway = std::move(gateway);
  r.geo.country = std::move(country);
  r.access_times_ms = std::move(times);
  return r;
}

}  // namespace

std::vector<std::string> hostile_accounts() {
  return {"'; DROP TABLE summaries--",
          "konto-\xc3\xbc-\xe6\x97\xa5\xe6\x9c\xac",
          std::string("nul\0byte", 8),
          "a/b",
          "sp ace?&=#%",
          "=cmd|' /C calc'!A0",
          "line\nbreak\x1b[31m"};
}

std::vector<RecordBatch> ApiTestServer::batches() {
  // acme: 203.0.113.5 access (250 accesses, ties: 3 per ms), 203.0.113.5 admin
  // via gw2 in DE with geo, 2001:db8::1 access, 10.1.2.3 access.
  std::vector<std::int64_t> many;
  for (int i = 0; i < 250; ++i) many.push_back(kBase + 1000 + i / 3);
  AttributionRecord admin =
      record("acme", "203.0.113.5", {kBase + 5000, kBase + 6000}, RecordClass::kAdmin, "gw2", "DE");
  admin.geo.subdivision = "DE-BE";
  admin.geo.asn = 64500;
  admin.geo.as_org = "Example, \"Net\" AG";
  admin.geo.anonymizer_flags = kAnonymousVpn | kTorExitNode;
  admin.geo.db_build_epoch = 1690000000;
  admin.principal = "alice";
  admin.ip_source = RecordIpSource::kXForwardedFor;

  RecordBatch first;
  first.agent_id = "agent-1";
  first.sequence = 1;
  first.records = {record("acme", "203.0.113.5", many),
                   admin,
                   record("acme", "2001:db8::1", {kBase + 2000}, RecordClass::kAccess, "gw1", "FR"),
                   record("acme", "10.1.2.3", {kBase + 3000, kBase + 3001}),
                   record("other", "10.9.9.9", {kBase + 4000}, RecordClass::kAccess, "-gw", "CA"),
                   record("other", "10.1.2.3", {kBase + 100000}),
                   record("v6only", "2001:db8:0:1::7", {kBase + 7000})};
  RecordBatch hostile;
  hostile.agent_id = "agent-2";
  hostile.sequence = 1;
  int n = 0;
  for (const std::string& account : hostile_accounts()) {
    hostile.records.push_back(record(account, "198.51.100.9", {kBase + 8000 + n++}));
  }
  AttributionRecord bad_utf8 = record("badutf8", "198.51.100.10", {kBase + 9000});
  bad_utf8.geo.as_org = "bad \xff\xfe org";
  hostile.records.push_back(bad_utf8);
  return {first, hostile};
}

ApiTestServer::ApiTestServer(ApiConfig config, const std::function<void(QueryApi&)>& setup) {
  std::string pattern = (std::filesystem::temp_directory_path() / "api-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  dir_ = pattern;
  Status s = open_sqlite_ledger_store({dir_ + "/ledger.sqlite3", 5000}, store_);
  EXPECT_TRUE(s) << s.message();
  for (const RecordBatch& b : batches()) {
    ApplyResult result;
    s = store_->apply_batch(b, result);
    EXPECT_TRUE(s) << s.message();
  }
  if (config.token_sha256.empty()) config.token_sha256 = {BearerTokenVerifier::sha256_hex(kTestToken)};
  api_ = std::make_unique<QueryApi>(*store_, config);
  if (setup) setup(*api_);
  s = make_api_server(config, server_);
  EXPECT_TRUE(s) << s.message();
  if (!server_) server_ = std::make_unique<httplib::Server>();
  tls_ = !config.tls_cert.empty();
  api_->register_routes(*server_);
  port_ = server_->bind_to_any_port("127.0.0.1");
  EXPECT_GT(port_, 0);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::yield();
}

ApiTestServer::~ApiTestServer() {
  server_->stop();
  thread_.join();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::pair<int, std::string> ApiTestServer::get(const std::string& path, const std::string& token) {
  httplib::Client client("127.0.0.1", port_);
  client.set_url_encode(false);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result result = client.Get(path, headers);
  if (!result) return {-1, httplib::to_string(result.error())};
  return {result->status, result->body};
}

std::pair<int, std::string> ApiTestServer::post(const std::string& path, const std::string& body,
                                                const std::string& token) {
  httplib::Client client("127.0.0.1", port_);
  client.set_url_encode(false);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result result = client.Post(path, headers, body, "application/json");
  if (!result) return {-1, httplib::to_string(result.error())};
  return {result->status, result->body};
}

}  // namespace ipattrib::collector::testing
