// ipattrib-collector as a process: config check, shipping with the agent's
// CollectorClient over mutual TLS, the ledger as the query API shows it,
// kill -9 mid-stream and restart on the same SQLite file (every access
// exactly once), a foreign CA refused, SIGTERM exits 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/ship/transport/collector_client.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/wire/batch_codec.h"
#include "tests/support/child_process.h"

namespace ipattrib {
namespace {

namespace fs = std::filesystem;
using test_support::eventually;
using test_support::free_port;
using test_support::run;
using nlohmann::json;

// printf %s test-token | sha256sum
constexpr const char* kToken = "test-token";
constexpr const char* kTokenSha256 = "4c5dc9b7708905f77f5e5d16316b5dfb425e68cb326dcd55a860e90a7707031e";

// One ipattrib-collector child process, its output appended to a log file.
class CollectorProcess : public test_support::ChildProcess {
 public:
  void start(const std::string& config, const std::string& log) {
    ChildProcess::start({IPATTRIB_COLLECTOR_BIN, "--config", config}, log);
  }
};

// Batch `seq`: account acct-<seq> from 198.51.100.<seq> three times (two in
// the same millisecond), and account "shared" once from 2001:db8::<seq> as admin.
RecordBatch numbered_batch(std::int64_t base_ms, std::uint64_t seq) {
  RecordBatch batch;
  batch.agent_id = "agent-1";
  batch.sequence = seq;
  const std::int64_t t = base_ms + static_cast<std::int64_t>(seq) * 1000;
  AttributionRecord own;
  own.account = "acct-" + std::to_string(seq);
  own.client_ip = *IpAddress::parse("198.51.100." + std::to_string(seq));
  own.gateway = "gw-1";
  own.access_times_ms = {t, t, t + 250};
  batch.records.push_back(own);
  AttributionRecord shared;
  shared.account = "shared";
  shared.client_ip = *IpAddress::parse("2001:db8::" + std::to_string(seq));
  shared.access_class = RecordClass::kAdmin;
  shared.gateway = "gw-1";
  shared.access_times_ms = {t + 500};
  batch.records.push_back(shared);
  return batch;
}

class CollectorProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ipattrib-collector-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string pki = std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh ";
    ASSERT_EQ(run(pki + (dir_ / "pki").string() + " --agent agent-1"), 0);
    ASSERT_EQ(run(pki + (dir_ / "other-pki").string() + " --agent agent-1"), 0);
    ingest_port_ = free_port();
    api_port_ = free_port();
    config_ = (dir_ / "collector.toml").string();
    std::ofstream(config_) << config_text();
    base_ms_ = (std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() - 3600) * 1000;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string config_text() const {
    const std::string pki = (dir_ / "pki").string();
    return "stats_interval_s = 1\n"
           "[ledger]\n"
           "sqlite_path = \"" + (dir_ / "ledger.sqlite3").string() + "\"\n"
           "retention_days = 730\n"
           "[ingest]\n"
           "listen = \"127.0.0.1:" + std::to_string(ingest_port_) + "\"\n"
           "tls_ca = \"" + pki + "/ca.crt\"\n"
           "tls_cert = \"" + pki + "/collector.crt\"\n"
           "tls_key = \"" + pki + "/collector.key\"\n"
           "allowed_agents = [\"agent-1\"]\n"
           "[wire]\n"
           "max_string_bytes = 4096\n"
           "[api]\n"
           "listen = \"127.0.0.1:" + std::to_string(api_port_) + "\"\n"
           "token_sha256 = [\"" + kTokenSha256 + "\"]\n";
  }

  void start_collector() {
    collector_.start(config_, (dir_ / "collector.log").string());
    ASSERT_TRUE(eventually([&] {
      httplib::Client http("127.0.0.1", api_port_);
      auto res = http.Get("/healthz");
      return res && res->status == 200;
    })) << "collector did not become ready; see " << (dir_ / "collector.log");
  }

  json get(const std::string& path, int expected_status = 200) {
    httplib::Client http("127.0.0.1", api_port_);
    http.set_bearer_token_auth(kToken);
    auto res = http.Get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return json();
    EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  std::string metrics() {
    httplib::Client http("127.0.0.1", api_port_);
    auto res = http.Get("/metrics");
    return res ? res->body : "";
  }

  agent::CollectorClientOptions client_options(const std::string& pki_for_agent_cert) const {
    agent::CollectorClientOptions options;
    options.collectors = {"127.0.0.1:" + std::to_string(ingest_port_)};
    options.tls.ca_file = (dir_ / "pki" / "ca.crt").string();  // trusts the collector
    options.tls.cert_file = (dir_ / pki_for_agent_cert / "agents" / "agent-1.crt").string();
    options.tls.key_file = (dir_ / pki_for_agent_cert / "agents" / "agent-1.key").string();
    options.agent_id = "agent-1";
    options.gateway = "gw-1";
    options.connect_timeout_ms = 10000;
    options.backoff_initial = std::chrono::milliseconds(50);
    options.backoff_max = std::chrono::milliseconds(200);
    return options;
  }

  void send(agent::CollectorClient& client, std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t seq = first; seq <= last; ++seq) {
      std::vector<std::uint8_t> frame;
      ASSERT_TRUE(wire::encode_batch(numbered_batch(base_ms_, seq), frame));
      Status s = client.send(seq, frame);
      ASSERT_TRUE(s) << s.message();
    }
  }
  void wait_acks(agent::CollectorClient& client, std::uint64_t last) {
    std::vector<std::uint64_t> acked;
    while (acked.empty() || acked.back() < last) {
      Status s = client.poll_acks(acked, 10000);
      ASSERT_TRUE(s) << s.message();
    }
    EXPECT_EQ(acked.back(), last);
  }

  // The whole ledger as the API shows it for batches 1..last, exactly.
  void expect_ledger_holds_batches(std::uint64_t last) {
    std::vector<std::int64_t> shared_times;
    for (std::uint64_t seq = 1; seq <= last; ++seq) {
      const std::string account = "acct-" + std::to_string(seq);
      const std::int64_t t = base_ms_ + static_cast<std::int64_t>(seq) * 1000;
      json ips = get("/v1/accounts/" + account + "/ips");
      ASSERT_EQ(ips["ips"].size(), 1u) << ips.dump();
      EXPECT_EQ(ips["ips"][0]["ip"], "198.51.100." + std::to_string(seq));
      EXPECT_EQ(ips["ips"][0]["class"], "access");
      EXPECT_EQ(ips["ips"][0]["count"], 3);
      EXPECT_EQ(ips["ips"][0]["gateways"], json::array({"gw-1"}));
      json accesses = get("/v1/accounts/" + account + "/accesses?limit=1000");
      std::vector<std::int64_t> times;
      for (const auto& a : accesses["accesses"]) times.push_back(a["time_ms"].get<std::int64_t>());
      EXPECT_EQ(times, (std::vector<std::int64_t>{t, t, t + 250})) << account;
      shared_times.push_back(t + 500);
    }
    json shared = get("/v1/accounts/shared/ips?limit=1000");
    ASSERT_EQ(shared["ips"].size(), last);
    for (const auto& ip : shared["ips"]) {
      EXPECT_EQ(ip["count"], 1) << ip.dump();
      EXPECT_EQ(ip["class"], "admin");
    }
    json accesses = get("/v1/accounts/shared/accesses?limit=1000");
    std::vector<std::int64_t> times;
    for (const auto& a : accesses["accesses"]) times.push_back(a["time_ms"].get<std::int64_t>());
    EXPECT_EQ(times, shared_times);
    get("/v1/accounts/acct-" + std::to_string(last + 1) + "/ips", 404);
  }

  fs::path dir_;
  std::string config_;
  std::uint16_t ingest_port_ = 0;
  std::uint16_t api_port_ = 0;
  std::int64_t base_ms_ = 0;
  CollectorProcess collector_;

 public:
  enum class CollectorFault { kNone, kStartsLate, kKilledMidStream };
  void replay_and_check(CollectorFault fault);
  // Runs the agent command while the collector is down at first, or is
  // killed with SIGKILL once it has committed some of the stream.
  void run_agent_through(CollectorFault fault, const std::string& agent_command);
};

TEST_F(CollectorProcessTest, CheckConfigAcceptsTheTestConfigAndRejectsABrokenOneAtItsLine) {
  std::string out;
  EXPECT_EQ(run(std::string(IPATTRIB_COLLECTOR_BIN) + " --check-config --config " + config_, &out), 0) << out;
  EXPECT_NE(out.find(": ok"), std::string::npos) << out;

  const fs::path broken_dir = dir_ / "broken";
  fs::create_directories(broken_dir);
  const std::string broken = (broken_dir / "collector.toml").string();
  std::ofstream(broken) << config_text() << "[ledger2]\n";  // line 16: unknown section
  EXPECT_EQ(run(std::string(IPATTRIB_COLLECTOR_BIN) + " --check-config --config " + broken, &out), 1) << out;
  EXPECT_NE(out.find("collector.toml:16:"), std::string::npos) << out;

  std::ofstream(broken) << "[ingest]\nlisten = \"127.0.0.1:1\"\nmax_connections = 0\n";
  EXPECT_EQ(run(std::string(IPATTRIB_COLLECTOR_BIN) + " --check-config --config " + broken, &out), 1) << out;
  EXPECT_NE(out.find("collector.toml:3:"), std::string::npos) << out;
}

TEST_F(CollectorProcessTest, ShippedExampleConfigPassesWhenItsTlsFilesExist) {
  const std::string example = std::string(IPATTRIB_SOURCE_DIR) + "/config/collector.toml";
  std::string out;
  ASSERT_EQ(run(std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh " + (dir_ / "var/pki").string() +
                " --agent agent-1"), 0);
  fs::create_directories(dir_ / "config");  // the example's relative policy path
  fs::copy_file(std::string(IPATTRIB_SOURCE_DIR) + "/config/special-measures.toml", dir_ / "config/special-measures.toml");
  EXPECT_EQ(run("cd " + dir_.string() + " && " + IPATTRIB_COLLECTOR_BIN + " --check-config --config " + example, &out),
            0) << out;
  EXPECT_EQ(run("cd " + (dir_ / "var").string() + " && " + IPATTRIB_COLLECTOR_BIN + " --check-config --config " +
                example, &out), 1) << out;
  EXPECT_NE(out.find("collector.toml:"), std::string::npos) << out;
}

TEST_F(CollectorProcessTest, EveryAccessOnceThroughKillNineAndRestart) {
  start_collector();
  std::unique_ptr<agent::CollectorClient> client;
  ASSERT_TRUE(agent::CollectorClient::create(client_options("pki"), client));
  Status s = client->connect(0, 0);
  ASSERT_TRUE(s) << s.message();
  send(*client, 1, 5);
  wait_acks(*client, 5);
  expect_ledger_holds_batches(5);
  const std::string m = metrics();
  EXPECT_NE(m.find("ipattrib_ingest_batches_total 5\n"), std::string::npos) << m;
  EXPECT_NE(m.find("ipattrib_ingest_accesses_total 20\n"), std::string::npos) << m;
  EXPECT_NE(m.find("ipattrib_retention_runs_total"), std::string::npos) << m;

  // More batches; the collector dies once the first of them is committed,
  // before (all) their ACKs are read.
  send(*client, 6, 12);
  std::vector<std::uint64_t> acked;
  while (acked.empty()) ASSERT_TRUE(client->poll_acks(acked, 10000));
  EXPECT_EQ(collector_.stop(SIGKILL), -1);
  client->disconnect();

  start_collector();
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(client->connect(6, 12)); }));
  const std::uint64_t committed = client->highest_committed();
  EXPECT_LE(committed, 12u);
  EXPECT_GE(committed, 6u);
  // Resend everything unacknowledged, as the shipper does from its spool
  // (the ones the collector already committed come back as duplicates).
  send(*client, 6, 12);
  wait_acks(*client, 12);
  expect_ledger_holds_batches(12);
  const std::string after = metrics();
  EXPECT_NE(after.find("ipattrib_ingest_batches_total " + std::to_string(12 - committed) + "\n"), std::string::npos)
      << after;
  EXPECT_NE(after.find("ipattrib_ingest_duplicate_batches_total " + std::to_string(committed - 5) + "\n"),
            std::string::npos) << after;

  client->disconnect();
  collector_.signal(SIGHUP);
  collector_.signal(SIGUSR1);
  const fs::path log = dir_ / "collector.log";
  auto log_has = [&](const std::string& text) {
    std::ifstream in(log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.find(text) != std::string::npos;
  };
  EXPECT_TRUE(eventually([&] { return log_has("SIGHUP: " + config_ + " reloaded"); }));
  EXPECT_TRUE(eventually([&] { return log_has("ingest.batches=" + std::to_string(12 - committed)); }));
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
  EXPECT_TRUE(log_has("stopping"));
}

// The retention job runs at start: accesses older than retention_days go,
// with their summary once nothing newer is left; recent ones stay.
TEST_F(CollectorProcessTest, RetentionDeletesWhatIsOlderThanTheWindowAndCountsIt) {
  start_collector();
  std::unique_ptr<agent::CollectorClient> client;
  ASSERT_TRUE(agent::CollectorClient::create(client_options("pki"), client));
  ASSERT_TRUE(client->connect(0, 0));
  const std::int64_t day_ms = 24 * 3600 * 1000;
  RecordBatch batch = numbered_batch(base_ms_, 1);
  batch.records[0].access_times_ms = {base_ms_ - 800 * day_ms, base_ms_ - 799 * day_ms};  // all old: summary goes
  batch.records[1].access_times_ms = {base_ms_ - 731 * day_ms, base_ms_};                  // one old, one kept
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(wire::encode_batch(batch, frame));
  ASSERT_TRUE(client->send(1, frame));
  wait_acks(*client, 1);
  client->disconnect();
  EXPECT_EQ(collector_.stop(SIGTERM), 0);

  start_collector();
  ASSERT_TRUE(eventually([&] { return metrics().find("ipattrib_retention_runs_total 1\n") != std::string::npos; }));
  const std::string m = metrics();
  EXPECT_NE(m.find("ipattrib_retention_accesses_deleted_total 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("ipattrib_retention_summaries_deleted_total 1\n"), std::string::npos) << m;
  get("/v1/accounts/acct-1/ips", 404);
  json accesses = get("/v1/accounts/shared/accesses");
  ASSERT_EQ(accesses["accesses"].size(), 1u) << accesses.dump();
  EXPECT_EQ(accesses["accesses"][0]["time_ms"], base_ms_);
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

TEST_F(CollectorProcessTest, AgentCertificateFromAnotherCaIsRefused) {
  start_collector();
  std::unique_ptr<agent::CollectorClient> client;
  ASSERT_TRUE(agent::CollectorClient::create(client_options("other-pki"), client));
  EXPECT_FALSE(client->connect(0, 0));
  EXPECT_FALSE(client->connected());
  ASSERT_TRUE(eventually([&] { return metrics().find("ipattrib_ingest_auth_failures_total 1\n") != std::string::npos; }))
      << metrics();
  EXPECT_NE(metrics().find("ipattrib_ingest_batches_total 0\n"), std::string::npos);
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

// SIGHUP applies a new config's API tokens and agent allow-list without a
// restart; a config that does not validate changes nothing and says why.
TEST_F(CollectorProcessTest, SighupReloadsTokensAndAllowListAndKeepsThemWhenTheNewConfigIsBad) {
  start_collector();
  auto status_with = [&](const std::string& token) {
    httplib::Client http("127.0.0.1", api_port_);
    http.set_bearer_token_auth(token);
    auto res = http.Get("/v1/accounts/nobody/ips");
    return res ? res->status : -1;
  };
  EXPECT_EQ(status_with(kToken), 404);  // authorised, unknown account
  const std::string new_token_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";  // "test"
  std::string text = config_text();
  text.replace(text.find(kTokenSha256), std::string(kTokenSha256).size(), new_token_sha256);
  text.replace(text.find("allowed_agents = [\"agent-1\"]"), std::string("allowed_agents = [\"agent-1\"]").size(),
               "allowed_agents = [\"agent-2\"]");
  std::ofstream(config_, std::ios::trunc) << text;
  collector_.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return status_with("test") == 404; }));
  EXPECT_EQ(status_with(kToken), 401);
  std::unique_ptr<agent::CollectorClient> client;
  ASSERT_TRUE(agent::CollectorClient::create(client_options("pki"), client));
  EXPECT_FALSE(client->connect(0, 0));  // agent-1 is no longer allowed
  ASSERT_TRUE(eventually([&] { return metrics().find("ipattrib_ingest_auth_failures_total 1\n") != std::string::npos; }));

  std::ofstream(config_, std::ios::trunc) << text << "[bogus]\n";
  collector_.signal(SIGHUP);
  const fs::path log = dir_ / "collector.log";
  ASSERT_TRUE(eventually([&] {
    std::ifstream in(log);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.find("not reloaded, the running configuration stays") != std::string::npos;
  }));
  EXPECT_EQ(status_with("test"), 404);  // still the reloaded token
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
}

// A query-only collector ([ingest] enabled = false) on the SQLite file an
// ingesting collector fills: it listens for no agents, runs neither alerts
// nor retention, and answers the query API (and ipattribctl) with what the
// other one committed.
TEST_F(CollectorProcessTest, QueryOnlyCollectorAnswersFromTheLedgerAnotherCollectorFills) {
  start_collector();
  const std::uint16_t query_port = free_port();
  const std::string query_config = (dir_ / "query-only.toml").string();
  std::ofstream(query_config) << "stats_interval_s = 1\n"
                              << "[ledger]\nsqlite_path = \"" << (dir_ / "ledger.sqlite3").string() << "\"\n"
                              << "[ingest]\nenabled = false\n"
                              << "[api]\nlisten = \"127.0.0.1:" << query_port << "\"\n"
                              << "token_sha256 = [\"" << kTokenSha256 << "\"]\n";
  std::string out;
  ASSERT_EQ(run(std::string(IPATTRIB_COLLECTOR_BIN) + " --check-config --config " + query_config, &out), 0) << out;
  CollectorProcess query_only;
  query_only.start(query_config, (dir_ / "query-only.log").string());
  const std::uint16_t ingest_api_port = api_port_;
  api_port_ = query_port;  // get() and metrics() now ask the query-only collector
  ASSERT_TRUE(eventually([&] {
    auto res = httplib::Client("127.0.0.1", query_port).Get("/healthz");
    return res && res->status == 200;
  }))
      << "query-only collector did not come up; see " << (dir_ / "query-only.log");

  std::unique_ptr<agent::CollectorClient> client;
  ASSERT_TRUE(agent::CollectorClient::create(client_options("pki"), client));
  ASSERT_TRUE(client->connect(0, 0));
  send(*client, 1, 4);
  wait_acks(*client, 4);
  expect_ledger_holds_batches(4);
  const std::string m = metrics();
  EXPECT_EQ(m.find("ipattrib_ingest_"), std::string::npos) << m;
  EXPECT_EQ(m.find("ipattrib_retention_"), std::string::npos) << m;
  get("/v1/alerts", 503);  // "alerts are not configured on this collector"

#ifdef IPATTRIBCTL_BIN
  const std::string ctl = "IPATTRIB_TOKEN=" + std::string(kToken) + " " + IPATTRIBCTL_BIN + " --url http://127.0.0.1:" +
                          std::to_string(query_port) + " ";
  ASSERT_EQ(run(ctl + "account acct-3 --format json", &out), 0) << out;
  EXPECT_NE(out.find("198.51.100.3"), std::string::npos) << out;
  ASSERT_EQ(run(ctl + "ip 2001:db8::2", &out), 0) << out;
  EXPECT_NE(out.find("shared"), std::string::npos) << out;
#endif
  api_port_ = ingest_api_port;
  client->disconnect();
  EXPECT_EQ(query_only.stop(SIGTERM), 0);
  EXPECT_EQ(collector_.stop(SIGTERM), 0);
  std::ifstream in(dir_ / "query-only.log");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("query only"), std::string::npos) << log;
  EXPECT_EQ(log.find("ingest: listening"), std::string::npos) << log;
}

// What a query-only collector would silently ignore is an error at its line.
TEST_F(CollectorProcessTest, QueryOnlyConfigRejectsIngestAlertAndRetentionSettingsAtTheirLine) {
  const std::string config = (dir_ / "bad-query-only.toml").string();
  std::ofstream(config) << "[ledger]\n"                                  // 1
                        << "sqlite_path = \"x.sqlite3\"\n"               // 2
                        << "retention_days = 30\n"                       // 3
                        << "[ingest]\n"                                  // 4
                        << "enabled = false\n"                           // 5
                        << "listen = \"127.0.0.1:7443\"\n"               // 6
                        << "[policy]\n"                                  // 7
                        << "path = \"config/special-measures.toml\"\n"   // 8
                        << "[alerts]\n"                                  // 9
                        << "dedup_window_s = 60\n";                      // 10
  std::string out;
  EXPECT_EQ(run(std::string("cd ") + IPATTRIB_SOURCE_DIR + " && " + IPATTRIB_COLLECTOR_BIN +
                " --check-config --config " + config, &out), 1) << out;
  EXPECT_NE(out.find("bad-query-only.toml:3: [ledger] retention_days has no effect"), std::string::npos) << out;
  EXPECT_NE(out.find("bad-query-only.toml:6: [ingest] listen has no effect"), std::string::npos) << out;
  EXPECT_NE(out.find("bad-query-only.toml:8: [policy] path has no effect"), std::string::npos) << out;
  EXPECT_NE(out.find("bad-query-only.toml:9: [alerts] has no effect"), std::string::npos) << out;
  EXPECT_EQ(out.find("tls_ca is required"), std::string::npos) << out;
  EXPECT_EQ(out.find("allowed_agents is required"), std::string::npos) << out;
}

#if defined(IPATTRIB_AGENT_BIN) && defined(IPATTRIB_GEN_BIN)
// The main job end to end through the real binaries: a generated capture with
// known ground truth is replayed through ipattrib-agent, which aggregates and
// ships over mutual TLS to ipattrib-collector; the ledger, read back through
// the query API, must equal the ground truth exactly — every account, client
// IP, class and access time (at the stored millisecond resolution).
// Replays a generated capture through the agent binary; with
// collector_starts_late the collector comes up only after the agent has
// started (and failed to connect), so everything goes through the spool.
TEST_F(CollectorProcessTest, AgentShipsAGeneratedCaptureAndTheLedgerEqualsGroundTruth) {
  replay_and_check(CollectorFault::kNone);
}

// Issue 4's fault case (2): the agent starts while the collector is down; the
// collector comes up later and still receives everything, exactly once.
TEST_F(CollectorProcessTest, AgentStartedWithCollectorDownDeliversEverythingWhenItComesUp) {
  replay_and_check(CollectorFault::kStartsLate);
}

// Issue 4's fault case (1), driven by the real agent: the collector is killed
// with SIGKILL while the agent is streaming to it, and restarted; the agent
// resends what was not acknowledged and the ledger holds every access once.
TEST_F(CollectorProcessTest, CollectorKilledMidStreamByTheAgentLosesAndDoublesNothing) {
  replay_and_check(CollectorFault::kKilledMidStream);
}

void CollectorProcessTest::run_agent_through(CollectorFault fault, const std::string& agent_command) {
  std::string agent_log;
  if (fault == CollectorFault::kNone) {
    ASSERT_EQ(run(agent_command, &agent_log), 0) << agent_log;
    return;
  }
  std::thread agent([&] { EXPECT_EQ(run(agent_command, &agent_log), 0) << agent_log; });
  if (fault == CollectorFault::kStartsLate) {
    // The agent reads the file, fails to connect, spools, and keeps retrying
    // for its drain time; the collector starts meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  } else {
    start_collector();
    const bool some_committed = eventually([&] {
      return metrics().find("ipattrib_ingest_batches_total 0\n") == std::string::npos &&
             metrics().find("ipattrib_ingest_batches_total") != std::string::npos;
    });
    EXPECT_TRUE(some_committed) << "the agent never got a batch committed";
    collector_.stop(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  }
  start_collector();
  agent.join();
  if (fault == CollectorFault::kStartsLate) {
    EXPECT_NE(agent_log.find("ship.connect_failures="), std::string::npos) << agent_log;
    EXPECT_EQ(agent_log.find("ship.connect_failures=0 "), std::string::npos) << "the collector was not down: "
                                                                             << agent_log;
  } else {
    // Proof that the kill landed mid-stream: the agent lost its link and
    // had to connect again.
    EXPECT_EQ(agent_log.find("ship.connects=1 "), std::string::npos) << "no reconnect: " << agent_log;
  }
}

void CollectorProcessTest::replay_and_check(CollectorFault fault) {
  if (fault == CollectorFault::kNone) start_collector();
  const int requests = fault == CollectorFault::kKilledMidStream ? 6000 : 3000;
  const std::string gen = std::string(IPATTRIB_GEN_BIN) + " --requests " + std::to_string(requests) + " --seed 5 --out " +
                          (dir_ / "gen.pcap").string() + " --truth " + (dir_ / "truth.tsv").string() +
                          " --config-out " + (dir_ / "agent.toml").string() + " --keys-out " +
                          (dir_ / "keys.tsv").string() + " 2>/dev/null";
  ASSERT_EQ(run(gen), 0);
  const std::string pki = (dir_ / "pki").string();
  std::ofstream(dir_ / "agent.toml", std::ios::app)
      << "\n[agent]\nid = \"agent-1\"\ngateway = \"gw-e2e\"\n"
      << "[ship]\ncollectors = [\"127.0.0.1:" << ingest_port_ << "\"]\n"
      << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/agents/agent-1.crt\"\n"
      << "tls_key = \"" << pki << "/agents/agent-1.key\"\nspool_dir = \"" << (dir_ / "spool").string() << "\"\n"
      // Many small batches, so the kill lands while the stream is still going.
      << (fault == CollectorFault::kKilledMidStream ? "flush_window_ms = 10\n" : "");
  const std::string agent_command = std::string(IPATTRIB_AGENT_BIN) + " --config " + (dir_ / "agent.toml").string() +
                                    " --read " + (dir_ / "gen.pcap").string() + " 2>&1";
  run_agent_through(fault, agent_command);

  // Ground truth: (account, client ip, class) -> access times in ms.
  std::map<std::string, std::map<std::string, std::vector<std::int64_t>>> truth;
  std::ifstream in(dir_ / "truth.tsv");
  std::string line;
  std::getline(in, line);  // header
  std::size_t shipped = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, '\t');) f.push_back(field);
    ASSERT_GE(f.size(), 12u) << line;
    if (f[9] == "-") continue;  // no account: not shipped (ship_unattributed = false)
    truth[f[9]][f[1] + " " + f[11]].push_back(std::stoll(f[0]) / 1000);
    ++shipped;
  }
  ASSERT_GT(truth.size(), 100u);

  std::size_t found = 0;
  for (auto& [account, expected] : truth) {
    std::map<std::string, std::vector<std::int64_t>> actual;
    std::string cursor;
    do {
      json page = get("/v1/accounts/" + account + "/accesses?limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const auto& a : page["accesses"]) {
        actual[a["ip"].get<std::string>() + " " + a["class"].get<std::string>()].push_back(a["time_ms"]);
        ++found;
      }
      cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
    } while (!cursor.empty());
    for (auto& [key, times] : expected) std::sort(times.begin(), times.end());
    for (auto& [key, times] : actual) std::sort(times.begin(), times.end());
    EXPECT_EQ(actual, expected) << "account " << account;
  }
  EXPECT_EQ(found, shipped);
  if (fault != CollectorFault::kKilledMidStream) {
    EXPECT_NE(metrics().find("ipattrib_ingest_accesses_total " + std::to_string(shipped) + "\n"), std::string::npos)
        << metrics();
  } else {  // the restarted collector applied only what the killed one had not committed
    EXPECT_EQ(metrics().find("ipattrib_ingest_accesses_total " + std::to_string(shipped) + "\n"), std::string::npos)
        << metrics();
  }
}
#endif

}  // namespace
}  // namespace ipattrib
