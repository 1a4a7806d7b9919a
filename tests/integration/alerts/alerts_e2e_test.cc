// Special-measures alerting end to end, through the real binaries only:
// ipattrib-gen writes a capture and its ground truth; the test writes a
// GeoIP2-City database placing some of the generator's client networks in
// Iran, Crimea (UA-43) and Russia and the rest in Germany; ipattrib-agent
// replays the capture with that database and ships to ipattrib-collector,
// which screens against the repo's config/special-measures.toml and delivers
// to a JSON-lines file and to a webhook receiver inside this test (HMAC
// checked over the exact body, failing at first so retries happen);
// ipattribctl lists and acknowledges. Every alert is checked against the
// ground truth exactly: one per (measure, account, client IP), its count the
// number of accesses, its first access the earliest one. Then the same
// through a kill -9 of the collector mid-stream, through a measure added to
// the policy file at runtime (the retroactive scan), and through a rescan.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/alerts/alerts_e2e_harness.h"

namespace ipattrib {
namespace {

using namespace alerts_e2e;  // NOLINT: the harness is this test's vocabulary

class AlertsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipattrib-alerts-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_EQ(run(std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh " + (dir_ / "pki").string() +
                  " --agent agent-1 >/dev/null"),
              0);
    std::ofstream(dir_ / "webhook.secret") << kWebhookSecret << "\n";  // trailing newline is not part of the key
    write_geo_database((dir_ / "city.mmdb").string());
    policy_path_ = (dir_ / "special-measures.toml").string();
    default_policy_ = read_file(fs::path(IPATTRIB_SOURCE_DIR) / "config/special-measures.toml");
    ASSERT_NE(default_policy_.find(kRussiaMeasure), std::string::npos);
    std::ofstream(policy_path_) << default_policy_;
    ingest_port_ = free_port();
    api_port_ = free_port();
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void write_collector_config(std::uint16_t webhook_port) {
    const std::string pki = (dir_ / "pki").string();
    std::ofstream(dir_ / "collector.toml")
        << "stats_interval_s = 1\n"
        << "[ledger]\nsqlite_path = \"" << (dir_ / "ledger.sqlite3").string() << "\"\n"
        << "[ingest]\nlisten = \"127.0.0.1:" << ingest_port_ << "\"\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/collector.crt\"\n"
        << "tls_key = \"" << pki << "/collector.key\"\nallowed_agents = [\"agent-1\"]\n"
        << "[api]\nlisten = \"127.0.0.1:" << api_port_ << "\"\ntoken_sha256 = [\"" << kTokenSha256 << "\"]\n"
        << "[policy]\npath = \"" << policy_path_ << "\"\nwatch_interval_s = 1\nscan_on_change = true\n"
        << "[alerts]\nsqlite_path = \"" << (dir_ / "alerts.sqlite3").string() << "\"\n"
        << "retry_base_ms = 20\nretry_max_ms = 200\n"
        << "[[alerts.webhook]]\nname = \"hook\"\nurl = \"http://127.0.0.1:" << webhook_port << "/hook\"\n"
        << "secret_file = \"" << (dir_ / "webhook.secret").string() << "\"\ntimeout_ms = 5000\n"
        << "[[alerts.file]]\nname = \"jsonl\"\npath = \"" << (dir_ / "alerts.jsonl").string() << "\"\n";
  }

  // A capture of `requests` requests, its truth, and the agent's config
  // (generator's attribution rules, the test's geo database, shipping).
  void generate(int requests, int seed, int flush_window_ms) {
    ASSERT_EQ(run(std::string(IPATTRIB_GEN_BIN) + " --requests " + std::to_string(requests) + " --seed " +
                  std::to_string(seed) + " --out " + (dir_ / "gen.pcap").string() + " --truth " +
                  (dir_ / "truth.tsv").string() + " --config-out " + (dir_ / "agent.toml").string() +
                  " --keys-out " + (dir_ / "keys.tsv").string() + " 2>/dev/null"),
              0);
    const std::string pki = (dir_ / "pki").string();
    std::ofstream(dir_ / "agent.toml", std::ios::app)
        << "\n[agent]\nid = \"agent-1\"\ngateway = \"gw-e2e\"\n"
        << "[ship]\ncollectors = [\"127.0.0.1:" << ingest_port_ << "\"]\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/agents/agent-1.crt\"\n"
        << "tls_key = \"" << pki << "/agents/agent-1.key\"\nspool_dir = \"" << (dir_ / "spool").string() << "\"\n"
        << "flush_window_ms = " << flush_window_ms << "\n"
        << "[[geo.database]]\npath = \"" << (dir_ / "city.mmdb").string() << "\"\n";
    truth_ = read_truth(dir_ / "truth.tsv");
    // The capture must exercise every block, or the checks below prove little.
    ASSERT_GT(of_measure(truth_.alerts, kIranMeasure), 10u);
    ASSERT_GT(of_measure(truth_.alerts, kCrimeaMeasure), 3u);
    ASSERT_GT(of_measure(truth_.alerts, kRussiaMeasure), 10u);
    ASSERT_GT(truth_.in_germany, 100u);
  }
  std::string agent_command() const {
    // timeout: an agent that cannot deliver must fail the test, not hang it.
    return std::string("timeout -s KILL 120 ") + IPATTRIB_AGENT_BIN + " --config " + (dir_ / "agent.toml").string() + " --read " +
           (dir_ / "gen.pcap").string();
  }

  void start_collector() {
    collector_.start({IPATTRIB_COLLECTOR_BIN, "--config", (dir_ / "collector.toml").string()},
                     (dir_ / "collector.log").string());
    ASSERT_TRUE(eventually([&] {
      httplib::Client http("127.0.0.1", api_port_);
      auto res = http.Get("/healthz");
      return res && res->status == 200;
    })) << "collector did not become ready: " << read_file(dir_ / "collector.log");
  }
  bool collector_log_has(const std::string& text) const {
    return read_file(dir_ / "collector.log").find(text) != std::string::npos;
  }

  json get(const std::string& path) {
    httplib::Client http("127.0.0.1", api_port_);
    http.set_bearer_token_auth(kToken);
    auto res = http.Get(path);
    if (!res || res->status != 200) {
      ADD_FAILURE() << path << ": " << (res ? std::to_string(res->status) + " " + res->body : "no answer");
      return json();
    }
    return json::parse(res->body, nullptr, false);
  }
  // A counter or gauge from /metrics; -1 when absent.
  std::int64_t metric(const std::string& name) {
    httplib::Client http("127.0.0.1", api_port_);
    auto res = http.Get("/metrics");
    if (!res) return -1;
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
    }
    return -1;
  }

  // Every alert, through /v1/alerts' paging.
  std::vector<json> all_alerts() {
    std::vector<json> alerts;
    std::string before;
    do {
      json page = get("/v1/alerts?limit=500" + (before.empty() ? "" : "&before=" + before));
      if (!page.is_object()) break;
      for (json& a : page["alerts"]) alerts.push_back(std::move(a));
      before = page["next_before"].is_number() ? std::to_string(page["next_before"].get<std::int64_t>()) : "";
    } while (!before.empty());
    return alerts;
  }

  // The stored alerts equal `expected` exactly: one per (measure, account,
  // ip), with its severity, reason, count and first access; no other alert.
  // Returns the ids.
  std::set<std::int64_t> expect_alerts_equal(const std::map<AlertKey, ExpectedAlert>& expected) {
    std::map<AlertKey, json> actual;
    std::set<std::int64_t> ids;
    for (json& a : all_alerts()) {
      const AlertKey key{a["measure"]["id"], a["account"], canonical_ip(a["ip"])};
      ids.insert(a["id"].get<std::int64_t>());
      const bool first = actual.emplace(key, a).second;
      EXPECT_TRUE(first) << "a second alert for one (measure, account, ip): " << a.dump();
    }
    EXPECT_EQ(actual.size(), expected.size());
    for (const auto& [key, e] : expected) {
      const auto it = actual.find(key);
      if (it == actual.end()) {
        ADD_FAILURE() << "no alert for " << std::get<0>(key) << " " << std::get<1>(key) << " " << std::get<2>(key)
                      << " (" << e.count << " accesses)";
        continue;
      }
      const json& a = it->second;
      EXPECT_EQ(a["measure"]["severity"], e.severity) << a.dump();
      EXPECT_NE(a["reason"].get<std::string>().find(e.reason), std::string::npos) << a.dump();
      EXPECT_EQ(a["count"], e.count) << a.dump();
      EXPECT_EQ(a["first_access"], rfc3339_ms(e.first_ms)) << a.dump();
      EXPECT_EQ(a["last_access"], rfc3339_ms(e.last_ms)) << a.dump();
      EXPECT_EQ(a["gateway"], "gw-e2e") << a.dump();
    }
    for (const auto& [key, a] : actual) {
      if (!expected.count(key)) {
        ADD_FAILURE() << "unexpected alert (the German blocks and unlisted measures raise none): " << a.dump();
      }
    }
    return ids;
  }

  // JSON-lines sink: alert id -> lines.
  std::map<std::int64_t, int> jsonl_ids() const {
    std::map<std::int64_t, int> ids;
    std::istringstream in(read_file(dir_ / "alerts.jsonl"));
    for (std::string line; std::getline(in, line);) {
      json doc = json::parse(line, nullptr, false);
      if (!doc.is_object() || !doc["id"].is_number_integer()) {
        ADD_FAILURE() << "not an alert line: " << line;
        continue;
      }
      ++ids[doc["id"].get<std::int64_t>()];
    }
    return ids;
  }

  // Waits for both sinks to have every alert in `ids` and the outbox to be
  // empty.
  void wait_for_delivery(const WebhookReceiver& webhook, const std::set<std::int64_t>& ids) {
    const bool delivered = eventually([&] {
      const auto tally = webhook.tally();
      const auto lines = jsonl_ids();
      for (std::int64_t id : ids) {
        if (!tally.deliveries.count(id) || !lines.count(id)) return false;
      }
      return metric("ipattrib_alerts_outbox_pending") == 0;
    });
    const auto tally = webhook.tally();
    EXPECT_TRUE(delivered) << "webhook got " << tally.deliveries.size() << " of " << ids.size() << " alerts, file "
                           << jsonl_ids().size() << ", outbox " << metric("ipattrib_alerts_outbox_pending");
  }

  // Runs ipattribctl against the collector.
  int ctl(const std::string& args, std::string* out) const {
    return run("IPATTRIB_URL=http://127.0.0.1:" + std::to_string(api_port_) + " IPATTRIB_TOKEN=" + kToken + " " +
                   IPATTRIBCTL_BIN + " " + args,
               out);
  }

  fs::path dir_;
  std::string policy_path_;
  std::string default_policy_;
  std::uint16_t ingest_port_ = 0;
  std::uint16_t api_port_ = 0;
  Truth truth_;
  ChildProcess collector_;
};

// The main path: every access from a sanctioned block raises exactly one
// alert per matching measure (count and first access from the ground truth),
// Germany none; both sinks get every alert, the webhook after refusing the
// first deliveries, every signature valid; /metrics counts deliveries and
// failures; ipattribctl lists the alerts and acknowledges one.
TEST_F(AlertsE2eTest, SanctionedAccessesRaiseOneAlertEachDeliveredToEverySinkAndAcknowledgedWithCtl) {
  constexpr int kRefusedAtFirst = 5;
  WebhookReceiver webhook(kRefusedAtFirst);
  write_collector_config(webhook.port());
  generate(3000, 21, 1000);
  start_collector();
  std::string agent_log;
  ASSERT_EQ(run(agent_command(), &agent_log), 0) << agent_log;  // exits once every batch is acknowledged

  // ACKed means committed in the ledger and screened: the alerts are stored.
  const std::set<std::int64_t> ids = expect_alerts_equal(truth_.alerts);
  wait_for_delivery(webhook, ids);

  const std::map<std::int64_t, int> lines = jsonl_ids();
  EXPECT_EQ(lines.size(), ids.size());
  for (const auto& [id, n] : lines) EXPECT_EQ(n, 1) << "alert " << id << " appears " << n << " times in the file";
  const WebhookReceiver::Tally tally = webhook.tally();
  EXPECT_EQ(tally.bad_signatures, 0);
  EXPECT_EQ(tally.malformed, 0);
  EXPECT_EQ(tally.refused, kRefusedAtFirst);
  for (std::int64_t id : ids) EXPECT_TRUE(tally.deliveries.count(id)) << "webhook never got alert " << id;
  for (const auto& [id, body] : tally.alerts) EXPECT_TRUE(ids.count(id)) << body.dump();
  // The webhook body is the stored alert document.
  const std::int64_t some_id = *ids.begin();
  json stored = get("/v1/alerts/" + std::to_string(some_id));
  EXPECT_EQ(tally.alerts.at(some_id)["account"], stored["account"]);
  EXPECT_EQ(tally.alerts.at(some_id)["count"], stored["count"]);

  const auto n = static_cast<std::int64_t>(ids.size());
  EXPECT_EQ(metric("ipattrib_alerts_created_total"), n);
  EXPECT_EQ(metric("ipattrib_alerts_sink_jsonl_delivered_total"), n);
  EXPECT_GE(metric("ipattrib_alerts_sink_hook_delivered_total"), n);
  EXPECT_EQ(metric("ipattrib_alerts_delivered_total"),
            metric("ipattrib_alerts_sink_jsonl_delivered_total") + metric("ipattrib_alerts_sink_hook_delivered_total"));
  EXPECT_EQ(metric("ipattrib_alerts_sink_hook_delivery_failures_total"), kRefusedAtFirst);
  EXPECT_EQ(metric("ipattrib_alerts_delivery_failures_total"), kRefusedAtFirst);
  EXPECT_EQ(metric("ipattrib_alerts_sink_hook_outbox_pending"), 0);

  // ipattribctl, the real binary.
  std::string out;
  ASSERT_EQ(ctl("alerts --limit 0 --format json", &out), 0) << out;
  json listed = json::parse(out, nullptr, false)["alerts"];  // {"alerts": [...]}
  ASSERT_TRUE(listed.is_array()) << out;
  std::set<std::int64_t> listed_ids;
  for (const json& a : listed) listed_ids.insert(a["id"].get<std::int64_t>());
  EXPECT_EQ(listed_ids, ids);
  ASSERT_EQ(ctl("alerts --severity critical --limit 0", &out), 0) << out;
  const std::size_t critical = of_measure(truth_.alerts, kIranMeasure) + of_measure(truth_.alerts, kCrimeaMeasure);
  EXPECT_EQ(static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')), critical + 1) << out;  // + header
  EXPECT_EQ(out.find(kRussiaMeasure), std::string::npos);

  const std::string id = std::to_string(some_id);
  ASSERT_EQ(ctl("ack " + id + " --by test --note 'e2e check'", &out), 0) << out;
  EXPECT_NE(out.find("acknowledged by test"), std::string::npos) << out;
  ASSERT_EQ(ctl("alert " + id + " --format json", &out), 0) << out;
  json acked = json::parse(out, nullptr, false);
  EXPECT_EQ(acked["state"], "acknowledged") << out;
  EXPECT_EQ(acked["state_by"], "test") << out;
  EXPECT_EQ(acked["state_note"], "e2e check") << out;
  EXPECT_EQ(ctl("ack " + id + " --by someone-else", &out), 4) << out;  // not forward: refused, first one stays
  EXPECT_NE(out.find("(by test)"), std::string::npos) << out;
  ASSERT_EQ(ctl("alerts --state acknowledged --limit 0 --format json", &out), 0) << out;
  listed = json::parse(out, nullptr, false)["alerts"];
  ASSERT_EQ(listed.size(), 1u) << out;
  EXPECT_EQ(listed[0]["id"], some_id);
  ASSERT_EQ(ctl("resolve " + id + " --by test", &out), 0) << out;
  ASSERT_EQ(ctl("alert " + id, &out), 0) << out;
  EXPECT_NE(out.find("resolved by test"), std::string::npos) << out;

  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

// The collector is killed with SIGKILL while the agent streams to it, after
// alerts were raised and while the webhook is down (so deliveries are owed);
// it restarts on the same files. The ledger holds every access once, every
// alert exists once with its exact count, and the restarted collector
// delivers what the killed one owed.
// (A kill between the ledger's and the alert store's commits once lost an
// alert here: HELLO_ACK now keeps such batches in the agent's spool.)
TEST_F(AlertsE2eTest, CollectorKilledMidStreamLosesAndDuplicatesNoAlertAndResumesTheOutbox) {
  WebhookReceiver webhook(0);
  webhook.set_down(true);
  write_collector_config(webhook.port());
  generate(6000, 22, 10);  // many small batches, so the kill lands mid-stream
  start_collector();
  std::string agent_log;
  std::thread agent([&] { EXPECT_EQ(run(agent_command(), &agent_log), 0) << agent_log; });

  const bool owed = eventually([&] {
    return metric("ipattrib_alerts_created_total") > 0 && metric("ipattrib_alerts_sink_hook_outbox_pending") > 0;
  });
  EXPECT_TRUE(owed) << "no alert was raised before the kill";
  const std::int64_t raised_before_kill = metric("ipattrib_alerts_created_total");
  EXPECT_EQ(collector_.stop(SIGKILL), -1);
  EXPECT_TRUE(webhook.tally().deliveries.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  webhook.set_down(false);
  start_collector();
  agent.join();
  // Proof that the kill landed mid-stream: the agent had to connect again.
  EXPECT_EQ(agent_log.find("ship.connects=1 "), std::string::npos) << "no reconnect: " << agent_log;

  // The ledger: every access exactly once.
  std::size_t found = 0;
  for (const auto& [account, expected] : truth_.ledger) {
    std::map<std::string, std::vector<std::int64_t>> actual;
    std::string cursor;
    do {
      json page = get("/v1/accounts/" + account + "/accesses?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const auto& a : page["accesses"]) {
        actual[canonical_ip(a["ip"]) + " " + a["class"].get<std::string>()].push_back(a["time_ms"]);
        ++found;
      }
      cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
    } while (!cursor.empty());
    for (auto& [key, times] : actual) std::sort(times.begin(), times.end());
    EXPECT_EQ(actual, expected) << "account " << account;
  }
  EXPECT_EQ(found, truth_.shipped);

  // Alerts: exactly once each, counts exact (no batch screened twice, none skipped).
  const std::set<std::int64_t> ids = expect_alerts_equal(truth_.alerts);
  EXPECT_GT(ids.size(), static_cast<std::size_t>(raised_before_kill)) << "the kill came after the last alert";
  wait_for_delivery(webhook, ids);
  // Alerts raised by the killed process reached the webhook only through the
  // persisted outbox of the restarted one.
  const WebhookReceiver::Tally tally = webhook.tally();
  for (std::int64_t id = 1; id <= raised_before_kill; ++id) EXPECT_TRUE(tally.deliveries.count(id)) << id;
  EXPECT_EQ(tally.bad_signatures, 0);
  EXPECT_EQ(tally.malformed, 0);
  EXPECT_GT(tally.refused, 0);
  // At-least-once: the file may repeat at most the one alert whose append
  // the kill interrupted before its outbox entry was deleted.
  int repeated = 0;
  const auto lines = jsonl_ids();
  for (const auto& [id, n] : lines) {
    EXPECT_TRUE(ids.count(id)) << "file line for unknown alert " << id;
    repeated += n - 1;
  }
  EXPECT_LE(repeated, 1);
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

// A measure added to the policy file while the collector runs: the file
// watch reloads it and the retroactive scan raises alerts for the accesses
// already in the ledger, once; a later SIGHUP with nothing changed raises
// nothing more, and the other measures' alerts are untouched.
// (The scan makes one hit per (account, ip, class) summary; folding them
// keeps the earliest first_access.)
TEST_F(AlertsE2eTest, MeasureAddedAtRuntimeRaisesAlertsForPastAccessesOnce) {
  WebhookReceiver webhook(0);
  std::ofstream(policy_path_, std::ios::trunc) << policy_without(default_policy_, kRussiaMeasure);
  ASSERT_EQ(read_file(policy_path_).find(kRussiaMeasure), std::string::npos);
  std::string out;
  ASSERT_EQ(run(std::string(IPATTRIB_COLLECTOR_BIN) + " --check-policy " + policy_path_, &out), 0) << out;
  write_collector_config(webhook.port());
  generate(3000, 23, 1000);
  start_collector();
  std::string agent_log;
  ASSERT_EQ(run(agent_command(), &agent_log), 0) << agent_log;

  const auto before = without_measure(truth_.alerts, kRussiaMeasure);
  const std::set<std::int64_t> first_ids = expect_alerts_equal(before);
  wait_for_delivery(webhook, first_ids);

  write_file_atomically(policy_path_, default_policy_);
  ASSERT_TRUE(eventually([&] { return collector_log_has("retroactive scan (" + std::string(kRussiaMeasure) + ") done"); }))
      << read_file(dir_ / "collector.log");
  EXPECT_TRUE(collector_log_has("new or changed: " + std::string(kRussiaMeasure)));
  std::set<std::int64_t> ids = expect_alerts_equal(truth_.alerts);
  wait_for_delivery(webhook, ids);
  EXPECT_EQ(metric("ipattrib_alerts_scans_total"), 1);
  EXPECT_EQ(metric("ipattrib_alerts_scan_alerts_created_total"),
            static_cast<std::int64_t>(of_measure(truth_.alerts, kRussiaMeasure)));
  for (json& a : all_alerts()) {  // the scan's alerts say so; those raised as accesses arrived do not
    EXPECT_EQ(a["retroactive"], a["measure"]["id"] == kRussiaMeasure) << a.dump();
  }

  // Nothing changed: a SIGHUP reloads but scans nothing and raises nothing.
  collector_.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return collector_log_has("reloaded (SIGHUP)"); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // two file-watch polls: no change either
  EXPECT_EQ(metric("ipattrib_alerts_scans_total"), 1);
  EXPECT_EQ(expect_alerts_equal(truth_.alerts), ids);
  const auto lines = jsonl_ids();
  EXPECT_EQ(lines.size(), ids.size());
  for (const auto& [id, n] : lines) EXPECT_EQ(n, 1) << "alert " << id;
  const WebhookReceiver::Tally tally = webhook.tally();
  EXPECT_EQ(tally.bad_signatures, 0);
  for (std::int64_t id : ids) EXPECT_TRUE(tally.deliveries.count(id)) << "webhook never got alert " << id;
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

// A retroactive scan of a measure already in force (`ipattribctl scan
// --measure ID`, or a reload that changes the measure) finds accesses whose
// hits are already in the alerts: it must not count them again.
TEST_F(AlertsE2eTest, RescanningAMeasureInForceCountsNoAccessTwice) {
  WebhookReceiver webhook(0);
  write_collector_config(webhook.port());
  generate(3000, 24, 1000);
  start_collector();
  std::string out;
  ASSERT_EQ(run(agent_command(), &out), 0) << out;
  const std::set<std::int64_t> ids = expect_alerts_equal(truth_.alerts);

  ASSERT_EQ(ctl("scan --measure " + std::string(kIranMeasure), &out), 0) << out;
  ASSERT_TRUE(eventually([&] { return collector_log_has("retroactive scan (" + std::string(kIranMeasure) + ") done"); }))
      << read_file(dir_ / "collector.log");
  EXPECT_EQ(expect_alerts_equal(truth_.alerts), ids);
  wait_for_delivery(webhook, ids);
  const auto lines = jsonl_ids();
  EXPECT_EQ(lines.size(), ids.size());  // nothing raised, nothing sent again
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace ipattrib
