// Scale-out end to end, through the real binaries: two ipattrib-collector
// processes keep one ledger in one PostgreSQL database; three ipattrib-agent
// processes replay generated captures (each its own seed, so its own ground
// truth), listing the collectors in different orders so both receive
// traffic. Collector A is killed with SIGKILL while agents stream to it;
// they fail over to B and send again everything A did not acknowledge,
// and the shared per-agent sequence makes B drop what A had committed.
// Read back through B's query API, the ledger must equal the union of the
// three ground truths exactly: every account, client IP, class and access
// time, none missing and none twice. Alerts live in the same database (with
// store = "postgresql"), so each (measure, account, ip) hit of the default
// policy under the test's geo database raised exactly one alert, counting
// its accesses once, whichever collector screened it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/alerts/alerts_e2e_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_server.h"

namespace ipattrib {
namespace {

using namespace alerts_e2e;  // NOLINT: ground truth, the geo database and the alerts it implies

constexpr int kAgents = 3;
constexpr int kRequestsPerAgent = 4000;

// One collector: its ports, its process, its API.
struct Collector {
  std::string name;
  std::uint16_t ingest_port = 0;
  std::uint16_t api_port = 0;
  ChildProcess process;

  std::string ingest_address() const { return "127.0.0.1:" + std::to_string(ingest_port); }
  // A counter from /metrics; -1 when absent or the collector does not answer.
  std::int64_t metric(const std::string& counter) const {
    httplib::Client http("127.0.0.1", api_port);
    auto res = http.Get("/metrics");
    if (!res || res->status != 200) return -1;
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(counter + " ", 0) == 0) return std::stoll(line.substr(counter.size() + 1));
    }
    return -1;
  }
};

class ScaleoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = test_support::shared_postgres_server(why);
    if (server_ == nullptr) GTEST_SKIP() << "skipped: no PostgreSQL server: " << why;
    database_ = test_support::fresh_database_name("scaleout");
    ASSERT_TRUE(server_->ensure_database(database_));
    dir_ = fs::temp_directory_path() / ("ipattrib-scaleout-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string pki = std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh " + (dir_ / "pki").string();
    for (int i = 1; i <= kAgents; ++i) pki += " --agent agent-" + std::to_string(i);
    ASSERT_EQ(run(pki + " >/dev/null"), 0);
    write_geo_database((dir_ / "city.mmdb").string());
    fs::copy_file(fs::path(IPATTRIB_SOURCE_DIR) / "config/special-measures.toml", dir_ / "special-measures.toml");
    for (Collector* c : {&a_, &b_}) {
      c->ingest_port = free_port();
      c->api_port = free_port();
    }
    a_.name = "collector-a";
    b_.name = "collector-b";
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  void start_collector(Collector& c) {
    const fs::path home = dir_ / c.name;
    fs::create_directories(home);
    const std::string pki = (dir_ / "pki").string();
    std::ofstream(home / "collector.toml")
        << "stats_interval_s = 1\n"
        << "[ledger]\nstore = \"postgresql\"\npostgresql_dsn = \"" << server_->conninfo(database_) << "\"\n"
        << "sqlite_path = \"" << (home / "ledger.sqlite3").string() << "\"\n"  // only places per-collector files
        << "[ingest]\nlisten = \"" << c.ingest_address() << "\"\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/collector.crt\"\n"
        << "tls_key = \"" << pki << "/collector.key\"\nallowed_agents = [\"*\"]\n"
        << "[api]\nlisten = \"127.0.0.1:" << c.api_port << "\"\ntoken_sha256 = [\"" << kTokenSha256 << "\"]\n"
        << "[policy]\npath = \"" << (dir_ / "special-measures.toml").string() << "\"\n";
    c.process.start({IPATTRIB_COLLECTOR_BIN, "--config", (home / "collector.toml").string()},
                    (home / "collector.log").string());
    ASSERT_TRUE(eventually([&] {
      auto res = httplib::Client("127.0.0.1", c.api_port).Get("/healthz");
      return res && res->status == 200;
    })) << c.name << " did not become ready: " << read_file(home / "collector.log");
  }

  // Agent i's capture, truth and config: the generator's attribution rules,
  // the test's geo database, and the collectors in the order given.
  void generate(int i, const std::vector<const Collector*>& order) {
    const fs::path home = dir_ / ("agent-" + std::to_string(i));
    fs::create_directories(home);
    ASSERT_EQ(run(std::string(IPATTRIB_GEN_BIN) + " --requests " + std::to_string(kRequestsPerAgent) + " --seed " +
                  std::to_string(40 + i) + " --out " + (home / "gen.pcap").string() + " --truth " +
                  (home / "truth.tsv").string() + " --config-out " + (home / "agent.toml").string() +
                  " --keys-out " + (home / "keys.tsv").string() + " 2>/dev/null"),
              0);
    std::string collectors;
    for (const Collector* c : order) collectors += (collectors.empty() ? "\"" : ", \"") + c->ingest_address() + "\"";
    const std::string pki = (dir_ / "pki").string();
    const std::string id = "agent-" + std::to_string(i);
    std::ofstream(home / "agent.toml", std::ios::app)
        << "\n[agent]\nid = \"" << id << "\"\ngateway = \"gw-" << i << "\"\n"
        << "[ship]\ncollectors = [" << collectors << "]\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/agents/" << id << ".crt\"\n"
        << "tls_key = \"" << pki << "/agents/" << id << ".key\"\nspool_dir = \"" << (home / "spool").string()
        << "\"\n"
        // Many small batches, so the kill lands while the streams still go.
        << "flush_window_ms = 10\n"
        << "[[geo.database]]\npath = \"" << (dir_ / "city.mmdb").string() << "\"\n";
  }
  std::string agent_command(int i, const std::string& capture = "gen.pcap") const {
    const fs::path home = dir_ / ("agent-" + std::to_string(i));
    // timeout: an agent that cannot deliver must fail the test, not hang it.
    return std::string("timeout -s KILL 180 ") + IPATTRIB_AGENT_BIN + " --config " + (home / "agent.toml").string() +
           " --read " + (home / capture).string();
  }

  // An agent waits 10 s for acknowledgements at the end of its file; on a
  // loaded machine, after a failover, that may end with batches still in
  // its spool, which it sends at its next start. Starts it again on an
  // empty capture until its spool is empty, as a restarted agent would.
  void deliver_what_is_spooled(int i, std::string& log) {
    const fs::path empty = dir_ / ("agent-" + std::to_string(i)) / "empty.pcap";
    const unsigned char header[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                      0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    std::ofstream(empty, std::ios::binary).write(reinterpret_cast<const char*>(header), sizeof header);
    for (int restart = 0; restart < 5 && spooled_batches(log) > 0; ++restart) {
      std::cout << "agent-" << i << " left " << spooled_batches(log) << " batches in its spool; starting it again\n";
      std::string more;
      EXPECT_EQ(run(agent_command(i, "empty.pcap"), &more), 0) << more;
      log += more;
    }
    EXPECT_EQ(spooled_batches(log), 0) << log;
  }
  // spool.batches of the agent's last stats line.
  static long spooled_batches(const std::string& log) {
    const std::size_t at = log.rfind("spool.batches=");
    return at == std::string::npos ? -1 : std::stol(log.substr(at + std::string("spool.batches=").size()));
  }

  // The union of the agents' truths: accounts may recur across captures.
  Truth union_of_truths() const {
    Truth all;
    for (int i = 1; i <= kAgents; ++i) {
      Truth one = read_truth(dir_ / ("agent-" + std::to_string(i)) / "truth.tsv");
      all.shipped += one.shipped;
      for (auto& [account, by_ip] : one.ledger) {
        for (auto& [key, times] : by_ip) {
          std::vector<std::int64_t>& merged = all.ledger[account][key];
          merged.insert(merged.end(), times.begin(), times.end());
          std::sort(merged.begin(), merged.end());
        }
      }
      for (const auto& [key, e] : one.alerts) {
        ExpectedAlert& merged = all.alerts[key];
        merged.severity = e.severity;
        merged.reason = e.reason;
        merged.count += e.count;
        merged.first_ms = std::min(merged.first_ms, e.first_ms);
        merged.last_ms = std::max(merged.last_ms, e.last_ms);
      }
    }
    return all;
  }

  json get(const Collector& c, const std::string& path) {
    httplib::Client http("127.0.0.1", c.api_port);
    http.set_bearer_token_auth(kToken);
    auto res = http.Get(path);
    if (!res || res->status != 200) {
      ADD_FAILURE() << c.name << " " << path << ": "
                    << (res ? std::to_string(res->status) + " " + res->body : "no answer");
      return json();
    }
    return json::parse(res->body, nullptr, false);
  }

  // Every access of every account in `truth`, read through `c`, equals it.
  void expect_ledger_equals(const Collector& c, const Truth& truth) {
    std::size_t found = 0;
    for (const auto& [account, expected] : truth.ledger) {
      std::map<std::string, std::vector<std::int64_t>> actual;
      std::string cursor;
      do {
        json page = get(c, "/v1/accounts/" + account + "/accesses?limit=1000" +
                               (cursor.empty() ? "" : "&cursor=" + cursor));
        if (!page.is_object()) return;
        for (const auto& a : page["accesses"]) {
          actual[canonical_ip(a["ip"].get<std::string>()) + " " + a["class"].get<std::string>()].push_back(
              a["time_ms"]);
          ++found;
        }
        cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
      } while (!cursor.empty());
      for (auto& [key, times] : actual) std::sort(times.begin(), times.end());
      EXPECT_EQ(actual, expected) << "account " << account;
    }
    EXPECT_EQ(found, truth.shipped);
  }

  // Each (measure, account, ip) hit raised exactly one alert, counting its
  // accesses once, whichever collector screened them.
  void expect_one_alert_per_hit(const Collector& c, const Truth& truth) {
    std::map<AlertKey, json> actual;
    std::string before;
    do {
      json page = get(c, "/v1/alerts?limit=500" + (before.empty() ? "" : "&before=" + before));
      if (!page.is_object()) return;
      for (const json& a : page["alerts"]) {
        const AlertKey key{a["measure"]["id"], a["account"], canonical_ip(a["ip"])};
        EXPECT_TRUE(actual.emplace(key, a).second) << "a second alert for one hit: " << a.dump();
      }
      before = page["next_before"].is_number() ? std::to_string(page["next_before"].get<std::int64_t>()) : "";
    } while (!before.empty());
    EXPECT_EQ(actual.size(), truth.alerts.size());
    for (const auto& [key, e] : truth.alerts) {
      const auto it = actual.find(key);
      if (it == actual.end()) {
        ADD_FAILURE() << "no alert for " << std::get<0>(key) << " " << std::get<1>(key) << " " << std::get<2>(key);
        continue;
      }
      EXPECT_EQ(it->second["count"], e.count) << it->second.dump();
      EXPECT_EQ(it->second["first_access"], rfc3339_ms(e.first_ms)) << it->second.dump();
      EXPECT_EQ(it->second["last_access"], rfc3339_ms(e.last_ms)) << it->second.dump();
    }
  }

  test_support::PostgresServer* server_ = nullptr;
  std::string database_;
  fs::path dir_;
  Collector a_;
  Collector b_;
};

TEST_F(ScaleoutTest, TwoCollectorsOnePostgresThreeAgentsAndAKillNineLoseAndDoubleNothing) {
  start_collector(a_);
  start_collector(b_);
  // Agents 1 and 3 prefer A, agent 2 prefers B: both collectors get traffic.
  generate(1, {&a_, &b_});
  generate(2, {&b_, &a_});
  generate(3, {&a_, &b_});
  const Truth truth = union_of_truths();
  ASSERT_GT(truth.ledger.size(), 100u);
  ASSERT_GT(truth.alerts.size(), 20u);

  std::array<std::string, kAgents> logs;
  std::array<int, kAgents> exits{};
  std::vector<std::thread> agents;
  for (int i = 1; i <= kAgents; ++i) {
    agents.emplace_back([&, i] { exits[i - 1] = run(agent_command(i), &logs[i - 1]); });
  }
  // Kill A once it has committed part of the streams it receives. Each agent
  // cuts ~34 batches (one per 10 ms window of its ~0.3 s of packet time;
  // more only when a timer tick happens to close a window early, which
  // depends on how many frames a read returns), so ~68 would go to A.
  const bool a_has_work = eventually([&] { return a_.metric("ipattrib_ingest_batches_total") >= 15; });
  const std::int64_t a_batches = a_.metric("ipattrib_ingest_batches_total");
  a_.process.stop(SIGKILL);
  for (std::thread& t : agents) t.join();
  EXPECT_TRUE(a_has_work) << "collector A never committed 15 batches: "
                          << read_file(dir_ / a_.name / "collector.log");
  for (int i = 0; i < kAgents; ++i) EXPECT_EQ(exits[static_cast<std::size_t>(i)], 0) << logs[static_cast<std::size_t>(i)];
  // Proof the kill landed mid-stream: the agents preferring A lost their
  // link and connected again (to B).
  for (int i : {0, 2}) {
    EXPECT_EQ(logs[static_cast<std::size_t>(i)].find("ship.connects=1 "), std::string::npos)
        << "agent-" << i + 1 << " never reconnected: " << logs[static_cast<std::size_t>(i)];
  }
  for (int i = 1; i <= kAgents; ++i) deliver_what_is_spooled(i, logs[static_cast<std::size_t>(i - 1)]);
  EXPECT_GT(b_.metric("ipattrib_ingest_batches_total"), 0);
  std::cout << "collector A committed at least " << a_batches << " batches before SIGKILL; B committed "
            << b_.metric("ipattrib_ingest_batches_total") << " and dropped "
            << b_.metric("ipattrib_ingest_duplicate_batches_total") << " repeats\n";

  expect_ledger_equals(b_, truth);
  // Nothing beyond the truth either: every access the database holds.
  std::string stored;
  ASSERT_TRUE(server_->execute(database_, "SELECT sum(n) FROM ledger_access_chunks", &stored));
  EXPECT_EQ(stored, std::to_string(truth.shipped));
  // Guards against screening that lags the ACK; asserts nothing by itself.
  eventually([&] {
    json page = get(b_, "/v1/alerts?limit=500");
    return page.is_object() && page["alerts"].size() >= std::min<std::size_t>(truth.alerts.size(), 500);
  });
  expect_one_alert_per_hit(b_, truth);
  EXPECT_EQ(b_.process.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace ipattrib
