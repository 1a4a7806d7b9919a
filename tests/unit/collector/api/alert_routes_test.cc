// The alert endpoints of the query API end to end: a real httplib server and
// client, QueryApi over a real SQLite ledger, alerts in a real SQLite alert
// store seeded through record_hits.
#include "collector/api/alert_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "collector/api/query_api.h"
#include "collector/api/request_body.h"
#include "tests/unit/collector/api/alert_test_data.h"
#include "tests/unit/collector/api/api_test_server.h"

namespace ipattrib::collector {
namespace {

using nlohmann::json;
using testing::ApiTestServer;
using testing::kAlertBase;
using testing::kSeededAlerts;
using testing::TempAlertStore;

class AlertRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::seed_alerts(*store_));
    server_ = std::make_unique<ApiTestServer>(ApiConfig{}, [this](QueryApi& api) { api.set_alerts(endpoints()); });
  }

  AlertEndpoints endpoints() {
    AlertEndpoints e;
    e.store = store_.get();
    e.measures = [this] { return policy_; };
    e.scan = [this](const std::string& measure, ScanOutcome& outcome) {
      std::lock_guard lock(scan_mutex_);
      scans_.push_back(measure);
      outcome = scan_outcome_;
      return scan_status_;
    };
    return e;
  }

  json get_json(const std::string& path, int expected_status = 200) {
    auto [status, body] = server_->get(path);
    EXPECT_EQ(status, expected_status) << path << " -> " << body;
    json j = json::parse(body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << body;
    return j;
  }
  json post_json(const std::string& path, const std::string& body, int expected_status = 200) {
    auto [status, text] = server_->post(path, body);
    EXPECT_EQ(status, expected_status) << path << " " << body << " -> " << text;
    json j = json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << text;
    return j;
  }
  // The id of the seeded alert of (measure, account).
  std::int64_t id_of(const std::string& measure, const std::string& account) {
    json j = get_json("/v1/alerts?measure=" + measure + "&account=" + account);
    EXPECT_EQ(j["alerts"].size(), 1u) << measure << " " << account;
    return j["alerts"].empty() ? 0 : j["alerts"][0]["id"].get<std::int64_t>();
  }
  std::vector<std::int64_t> ids_of(const json& page) {
    std::vector<std::int64_t> ids;
    for (const json& a : page["alerts"]) ids.push_back(a["id"].get<std::int64_t>());
    return ids;
  }

  TempAlertStore store_;
  std::unique_ptr<ApiTestServer> server_;
  json policy_ = {{"measures", json::array({{{"id", "cu-sanctions"}, {"severity", "critical"}}})}};
  std::mutex scan_mutex_;
  std::vector<std::string> scans_;
  ScanOutcome scan_outcome_;
  Status scan_status_;
};

TEST_F(AlertRoutesTest, ListsEveryAlertNewestFirst) {
  json j = get_json("/v1/alerts");
  ASSERT_EQ(j["alerts"].size(), kSeededAlerts);
  EXPECT_TRUE(j["next_before"].is_null());
  std::vector<std::int64_t> ids = ids_of(j);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), kSeededAlerts);
  const json& oldest = j["alerts"].back();
  EXPECT_EQ(oldest["measure"]["id"], "cu-sanctions");
  EXPECT_EQ(oldest["measure"]["severity"], "critical");
  EXPECT_EQ(oldest["account"], "acme");
  EXPECT_EQ(oldest["ip"], "203.0.113.5");
  EXPECT_EQ(oldest["geo"]["country"], "CU");
  EXPECT_EQ(oldest["count"], 3);
  EXPECT_EQ(oldest["state"], "open");
  EXPECT_EQ(j["alerts"][0]["account"], testing::kHostileAccount);
}

TEST_F(AlertRoutesTest, FiltersBySeverityStateMeasureAccountAndTime) {
  auto count = [&](const std::string& query) { return get_json("/v1/alerts?" + query)["alerts"].size(); };
  EXPECT_EQ(count("severity=critical"), 12u);
  EXPECT_EQ(count("severity=high"), 13u);  // minimum severity: critical and high
  EXPECT_EQ(count("severity=review"), 14u);
  EXPECT_EQ(count("severity=info"), 15u);
  EXPECT_EQ(count("measure=ua-dnr"), 1u);
  EXPECT_EQ(count("account=other"), 2u);
  EXPECT_EQ(count("account=other&severity=review"), 1u);
  EXPECT_EQ(count("measure=cu-sanctions&account=bulk"), 10u);
  EXPECT_EQ(count("state=open"), 15u);
  EXPECT_EQ(count("state=resolved"), 0u);
  // Created one second apart: calls 2..3 (ru-adversary, ua-dnr).
  EXPECT_EQ(count("since=" + std::to_string(kAlertBase + 1000) + "&until=" + std::to_string(kAlertBase + 2000)), 2u);
  json ru =
      get_json("/v1/alerts?since=" + std::to_string(kAlertBase + 1000) + "&until=" + std::to_string(kAlertBase + 1000));
  ASSERT_EQ(ru["alerts"].size(), 1u);
  EXPECT_EQ(ru["alerts"][0]["measure"]["id"], "ru-adversary");
}

TEST_F(AlertRoutesTest, PagesThroughNextBeforeCompletelyAndInOrder) {
  const std::vector<std::int64_t> all = ids_of(get_json("/v1/alerts"));
  std::vector<std::int64_t> paged;
  std::string before;
  for (int page = 0; page < 20; ++page) {
    json j = get_json("/v1/alerts?limit=4" + (before.empty() ? "" : "&before=" + before));
    EXPECT_LE(j["alerts"].size(), 4u);
    for (std::int64_t id : ids_of(j)) paged.push_back(id);
    if (j["next_before"].is_null()) break;
    before = std::to_string(j["next_before"].get<std::int64_t>());
  }
  EXPECT_EQ(paged, all);
  // Paging composes with filters.
  json first = get_json("/v1/alerts?account=bulk&limit=6");
  ASSERT_EQ(first["alerts"].size(), 6u);
  json rest = get_json("/v1/alerts?account=bulk&limit=6&before=" + std::to_string(first["next_before"].get<int>()));
  EXPECT_EQ(rest["alerts"].size(), 4u);
  EXPECT_TRUE(rest["next_before"].is_null());
}

TEST_F(AlertRoutesTest, GetsOneAlertById) {
  const std::int64_t id = id_of("ua-dnr", "other");
  json j = get_json("/v1/alerts/" + std::to_string(id));
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["geo"]["subdivision"], "UA-14");
  EXPECT_EQ(j["measure"]["severity"], "review");
  EXPECT_EQ(get_json("/v1/alerts/999999", 404)["error"], "unknown alert");
  for (const char* bad : {"0", "-1", "abc", "1x", "99999999999999999999999"}) {
    EXPECT_EQ(get_json(std::string("/v1/alerts/") + bad, 400)["error"], "alert id must be a positive integer") << bad;
  }
}

TEST_F(AlertRoutesTest, AcknowledgeThenResolveRecordsWhoAndNote) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("cu-sanctions", "acme"));
  json acked = post_json(path + "/ack", R"({"by": "alice", "note": "calling the customer"})");
  EXPECT_EQ(acked["state"], "acknowledged");
  EXPECT_EQ(acked["state_by"], "alice");
  EXPECT_EQ(acked["state_note"], "calling the customer");
  EXPECT_TRUE(acked["state_changed"].is_string());
  EXPECT_EQ(get_json(path)["state"], "acknowledged");
  EXPECT_EQ(get_json("/v1/alerts?state=acknowledged")["alerts"].size(), 1u);
  EXPECT_EQ(get_json("/v1/alerts?state=open")["alerts"].size(), kSeededAlerts - 1);

  json resolved = post_json(path + "/resolve", R"({"by": "bob"})");
  EXPECT_EQ(resolved["state"], "resolved");
  EXPECT_EQ(resolved["state_by"], "bob");
  EXPECT_EQ(get_json("/v1/alerts?state=resolved")["alerts"][0]["state_by"], "bob");
}

TEST_F(AlertRoutesTest, OpenAlertCanBeResolvedDirectly) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("sy-watch", "other"));
  EXPECT_EQ(post_json(path + "/resolve", R"({"by": "carol", "note": "lifted"})")["state"], "resolved");
}

TEST_F(AlertRoutesTest, BackwardsOrRepeatedTransitionsAre409AndChangeNothing) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("ru-adversary", "acme"));
  post_json(path + "/ack", R"({"by": "alice"})");
  json again = post_json(path + "/ack", R"({"by": "mallory"})", 409);
  EXPECT_EQ(again["error"],
            "alert " + path.substr(11) + " is already acknowledged (by alice); it cannot become acknowledged");
  EXPECT_EQ(again["alert"]["state_by"], "alice");
  post_json(path + "/resolve", R"({"by": "bob"})");
  post_json(path + "/ack", R"({"by": "mallory"})", 409);
  post_json(path + "/resolve", R"({"by": "mallory"})", 409);
  json now = get_json(path);
  EXPECT_EQ(now["state"], "resolved");
  EXPECT_EQ(now["state_by"], "bob");
}

TEST_F(AlertRoutesTest, StateChangesCheckTheirInput) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("ua-dnr", "other"));
  const std::string too_long(AlertRoutes::kMaxByLength + 1, 'x');
  const std::string long_note(AlertRoutes::kMaxNoteLength + 1, 'n');
  const std::map<std::string, std::string> bad = {
      {"", "by is required: who is making the change (no control characters)"},
      {"{}", "by is required: who is making the change (no control characters)"},
      {R"({"by": ""})", "by is required: who is making the change (no control characters)"},
      {R"({"by": "a\u001bb"})", "by is required: who is making the change (no control characters)"},
      {R"({"by": 7})", "by must be a string"},
      {"{\"by\": \"" + too_long + "\"}", "by is longer than 128 bytes"},
      {"{\"by\": \"a\", \"note\": \"" + long_note + "\"}", "note is longer than 4096 bytes"},
      {R"({"by": "a", "who": "b"})", "unknown field who"},
      {R"(["by"])", "request body must be a JSON object"},
      {"{\"by\": \"a\xff\"}", "request body must be a JSON object"},
      {"by=alice", "request body must be a JSON object"},
  };
  for (const auto& [body, message] : bad) {
    EXPECT_EQ(post_json(path + "/ack", body, 400)["error"], message) << body;
  }
  EXPECT_EQ(post_json(path + "/ack?x=1", R"({"by": "a"})", 400)["error"], "unknown parameter");
  // Refused before it is buffered, above the limit of every POST body.
  EXPECT_EQ(server_->post(path + "/ack", std::string(kMaxRequestBodyBytes + 1, ' ')).first, 413);
  EXPECT_EQ(post_json("/v1/alerts/999999/ack", R"({"by": "a"})", 404)["error"], "unknown alert");
  EXPECT_EQ(post_json("/v1/alerts/abc/resolve", R"({"by": "a"})", 400)["error"], "alert id must be a positive integer");
  EXPECT_EQ(get_json(path + "/ack", 405)["error"], "use POST");
  EXPECT_EQ(post_json("/v1/alerts", "{}", 405)["error"], "use GET");
  EXPECT_EQ(post_json("/v1/accounts/acme/ips", "{}", 405)["error"], "use GET");
  EXPECT_EQ(post_json(path + "/reopen", R"({"by": "a"})", 404)["error"], "no such endpoint");
  // None of it changed the alert.
  EXPECT_EQ(get_json(path)["state"], "open");
}

TEST_F(AlertRoutesTest, ListParametersAreChecked) {
  const std::map<std::string, std::string> bad = {
      {"state=closed", "state must be open, acknowledged or resolved"},
      {"severity=urgent", "severity must be critical, high, review or info"},
      {"before=0", "before must be an alert id (a positive integer)"},
      {"before=x", "before must be an alert id (a positive integer)"},
      {"limit=0", "limit must be at least 1"},
      {"since=yesterday", "since must be RFC 3339 (2024-05-01T00:00:00Z) or epoch milliseconds"},
      {"since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z", "since is after until"},
      {"sevrity=high", "unknown parameter"},
      {"state=open&state=resolved", "parameter state given more than once"},
  };
  for (const auto& [query, message] : bad) {
    EXPECT_EQ(get_json("/v1/alerts?" + query, 400)["error"], message) << query;
  }
}

TEST_F(AlertRoutesTest, EveryAlertRouteNeedsTheBearerToken) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("cu-sanctions", "acme"));
  for (const std::string& token : {std::string(), std::string("wrong")}) {
    for (const std::string& get : {std::string("/v1/alerts"), path, std::string("/v1/measures")}) {
      EXPECT_EQ(server_->get(get, token).first, 401) << get;
    }
    for (const std::string& post : {path + "/ack", path + "/resolve", std::string("/v1/scan")}) {
      auto [status, body] = server_->post(post, R"({"by": "mallory"})", token);
      EXPECT_EQ(status, 401) << post;
      EXPECT_EQ(json::parse(body)["error"], "missing or invalid bearer token");
    }
  }
  EXPECT_EQ(get_json(path)["state"], "open");
  std::lock_guard lock(scan_mutex_);
  EXPECT_TRUE(scans_.empty());
}

TEST_F(AlertRoutesTest, MeasuresServeThePolicyInEffect) {
  EXPECT_EQ(get_json("/v1/measures"), policy_);
  policy_ = json();  // the callback is asked on every request
  EXPECT_EQ(get_json("/v1/measures", 503)["error"], "no special-measures policy is loaded");
}

TEST_F(AlertRoutesTest, ScanPassesTheMeasureAndAnswersWithItsOutcome) {
  scan_outcome_.summary = {{"alerts_created", 4}};
  EXPECT_EQ(post_json("/v1/scan", R"({"measure": "cu-sanctions"})"), json({{"alerts_created", 4}}));
  EXPECT_EQ(post_json("/v1/scan", ""), json({{"alerts_created", 4}}));
  scan_outcome_.kind = ScanOutcome::Kind::kStarted;
  scan_outcome_.summary = {{"scan", "started"}};
  EXPECT_EQ(post_json("/v1/scan", "{}", 202), json({{"scan", "started"}}));
  scan_outcome_.kind = ScanOutcome::Kind::kUnknownMeasure;
  EXPECT_EQ(post_json("/v1/scan", R"({"measure": "nope"})", 404)["error"], "unknown measure");
  scan_outcome_.kind = ScanOutcome::Kind::kBusy;
  EXPECT_EQ(post_json("/v1/scan", "{}", 409)["error"], "a scan is already running");
  scan_status_ = Status::error("ledger unreachable at /secret/path");
  EXPECT_EQ(post_json("/v1/scan", "{}", 500)["error"], "scan failed");
  EXPECT_EQ(post_json("/v1/scan", R"({"measure": 5})", 400)["error"], "measure must be a string");
  EXPECT_EQ(post_json("/v1/scan", R"({"all": true})", 400)["error"], "unknown field all");
  EXPECT_EQ(get_json("/v1/scan", 405)["error"], "use POST");
  std::lock_guard lock(scan_mutex_);
  EXPECT_EQ(scans_, (std::vector<std::string>{"cu-sanctions", "", "", "nope", "", ""}));
}

TEST_F(AlertRoutesTest, AlertRoutesAreCountedInMetrics) {
  const std::string path = "/v1/alerts/" + std::to_string(id_of("cu-sanctions", "acme"));
  post_json(path + "/ack", R"({"by": "alice"})");
  post_json(path + "/ack", R"({"by": "alice"})", 409);
  get_json("/v1/measures");
  post_json("/v1/scan", "{}");
  auto [status, text] = server_->get("/metrics");
  ASSERT_EQ(status, 200);
  for (const char* line : {"ipattrib_api_requests_total{route=\"alerts\",status=\"200\"} 1\n",
                           "ipattrib_api_requests_total{route=\"alert_ack\",status=\"200\"} 1\n",
                           "ipattrib_api_requests_total{route=\"alert_ack\",status=\"409\"} 1\n",
                           "ipattrib_api_requests_total{route=\"measures\",status=\"200\"} 1\n",
                           "ipattrib_api_requests_total{route=\"scan\",status=\"200\"} 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(text.find("alice"), std::string::npos);
}

// A store whose state change loses a race: another analyst's change lands
// first and the store refuses ours as backwards.
class RacingAlertStore : public AlertStore {
 public:
  explicit RacingAlertStore(AlertStore& real) : real_(real) {}
  Status record_hits(const std::string& agent, std::uint64_t seq, const std::vector<AlertHit>& hits, std::int64_t now,
                     std::int64_t window, const std::vector<std::string>& sinks, RecordHitsResult& result) override {
    return real_.record_hits(agent, seq, hits, now, window, sinks, result);
  }
  Status evaluated_sequence(const std::string& agent, std::uint64_t& seq) override {
    return real_.evaluated_sequence(agent, seq);
  }
  Status list_alerts(const AlertQuery& q, std::vector<Alert>& alerts, bool& more) override {
    return real_.list_alerts(q, alerts, more);
  }
  Status get_alert(std::int64_t id, Alert& alert, bool& found) override { return real_.get_alert(id, alert, found); }
  Status set_alert_state(std::int64_t id, AlertState state, const std::string&, const std::string&, std::int64_t now_ms,
                         bool& found) override {
    // bob resolves it first; then ours (an acknowledgement) would go backwards.
    if (Status s = real_.set_alert_state(id, AlertState::kResolved, "bob", "", now_ms, found); !s) return s;
    return real_.set_alert_state(id, state, "alice", "", now_ms, found);
  }
  Status claim_deliveries(const std::string& sink, std::int64_t now, std::int64_t lease, std::uint32_t limit,
                          std::vector<OutboxEntry>& entries) override {
    return real_.claim_deliveries(sink, now, lease, limit, entries);
  }
  Status release_delivery(std::int64_t id) override { return real_.release_delivery(id); }
  Status mark_delivered(std::int64_t id) override { return real_.mark_delivered(id); }
  Status mark_failed(std::int64_t id, std::int64_t next, const std::string& error) override {
    return real_.mark_failed(id, next, error);
  }
  Status outbox_depth(const std::string& sink, std::uint64_t& pending) override {
    return real_.outbox_depth(sink, pending);
  }

 private:
  AlertStore& real_;
};

TEST(AlertRoutesRaceTest, ChangeThatLosesARaceIs409WithTheWinner) {
  TempAlertStore real;
  ASSERT_TRUE(testing::seed_alerts(*real));
  RacingAlertStore store(*real);
  ApiTestServer server(ApiConfig{}, [&](QueryApi& api) { api.set_alerts({&store, nullptr, nullptr}); });
  auto [status, body] = server.post("/v1/alerts/1/ack", R"({"by": "alice"})");
  EXPECT_EQ(status, 409) << body;
  json j = json::parse(body);
  EXPECT_EQ(j["alert"]["state"], "resolved");
  EXPECT_EQ(j["alert"]["state_by"], "bob");
}

TEST(AlertRoutesUnconfiguredTest, CollectorWithoutAlertsAnswers503) {
  ApiTestServer server;
  const std::map<std::string, std::string> gets = {
      {"/v1/alerts", "alerts are not configured on this collector"},
      {"/v1/alerts/1", "alerts are not configured on this collector"},
      {"/v1/measures", "special measures are not configured on this collector"},
  };
  for (const auto& [path, message] : gets) {
    auto [status, body] = server.get(path);
    EXPECT_EQ(status, 503) << path;
    EXPECT_EQ(json::parse(body)["error"], message);
  }
  auto [ack_status, ack] = server.post("/v1/alerts/1/ack", R"({"by": "alice"})");
  EXPECT_EQ(ack_status, 503);
  EXPECT_EQ(json::parse(ack)["error"], "alerts are not configured on this collector");
  auto [scan_status, scan] = server.post("/v1/scan", "");
  EXPECT_EQ(scan_status, 503);
  EXPECT_EQ(json::parse(scan)["error"], "retroactive scans are not configured on this collector");
  // The ledger routes are unaffected.
  EXPECT_EQ(server.get("/v1/accounts/acme/ips").first, 200);
}

}  // namespace
}  // namespace ipattrib::collector
