// ipattribctl's alert subcommands as an analyst runs them: the real binary
// against a real query API server whose alerts live in a real SQLite alert
// store. max_page is small so `alerts` has to follow next_before.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tests/unit/collector/api/alert_test_data.h"
#include "tests/unit/collector/api/api_test_server.h"
#include "tests/unit/ctl/ctl_runner.h"

namespace ipattrib::ctl {
namespace {

using collector::testing::ApiTestServer;
using collector::testing::kSeededAlerts;
using nlohmann::json;
using testing::CtlRun;
using testing::lines_of;

collector::ApiConfig small_pages() {
  collector::ApiConfig config;
  config.max_page = 4;
  return config;
}

class IpattribctlAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl-alerts-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(collector::testing::seed_alerts(*store_));
    server_ = std::make_unique<ApiTestServer>(small_pages(), [this](collector::QueryApi& api) {
      collector::AlertEndpoints e;
      e.store = store_.get();
      e.measures = [] {
        return json{{"source", "/etc/ipattrib/special-measures.toml"},
                    {"measures", json::array({{{"id", "cu-sanctions"},
                                               {"title", "Cuba: comprehensive sanctions"},
                                               {"severity", "critical"},
                                               {"effective", "2024-01-01"},
                                               {"expires", nullptr},
                                               {"countries", {"CU"}},
                                               {"subdivisions", json::array()},
                                               {"networks", {"192.0.2.0/24"}},
                                               {"asns", {64500}}}})}};
      };
      e.scan = [this](const std::string& measure, collector::ScanOutcome& outcome) {
        std::lock_guard lock(mutex_);
        scanned_.push_back(measure);
        if (measure == "nope") outcome.kind = collector::ScanOutcome::Kind::kUnknownMeasure;
        outcome.summary = {{"measures", measure.empty() ? 2 : 1}, {"alerts_created", 3}};
        return Status::ok();
      };
      api.set_alerts(std::move(e));
    });
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  CtlRun ctl(const std::vector<std::string>& args, const std::string& env_prefix = "") {
    return testing::run_ctl(server_->url(), dir_, args, env_prefix);
  }
  // The id of the one seeded alert of (measure, account).
  std::string id_of(const std::string& measure, const std::string& account) {
    CtlRun r = ctl({"alerts", "--measure", measure, "--account", account, "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json doc = json::parse(r.out);
    EXPECT_EQ(doc["alerts"].size(), 1u);
    return doc["alerts"].empty() ? "0" : doc["alerts"][0]["id"].dump();
  }

  collector::testing::TempAlertStore store_;
  std::unique_ptr<ApiTestServer> server_;
  std::string dir_;
  std::mutex mutex_;
  std::vector<std::string> scanned_;
};

TEST_F(IpattribctlAlertsTest, AlertsPrintsAReadableTableFollowingPages) {
  CtlRun r = ctl({"alerts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1u + kSeededAlerts) << r.out;  // 4 per page: paging followed
  EXPECT_EQ(lines[0],
            "ID  SEVERITY  FIRST ACCESS              MEASURE       ACCOUNT          IP            COUNTRY  "
            "SUBDIVISION  COUNT  STATE");
  // Newest first; the last line is the first alert raised.
  EXPECT_EQ(lines.back(),
            "1   critical  2023-11-14T22:13:21.000Z  cu-sanctions  acme             203.0.113.5   CU                "
            "    3      open");
  bool saw_review = false;
  for (const std::string& line : lines) {
    if (line.find("ua-dnr") == std::string::npos) continue;
    saw_review = true;
    EXPECT_NE(line.find("review"), std::string::npos);
    EXPECT_NE(line.find("UA-14"), std::string::npos);
  }
  EXPECT_TRUE(saw_review);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "terminal escapes must not reach the terminal";
  EXPECT_NE(r.out.find("line?break?[31m"), std::string::npos);
}

TEST_F(IpattribctlAlertsTest, AlertsFiltersAndLimits) {
  auto count = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "alerts");
    args.insert(args.end(), {"--format", "json"});
    CtlRun r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["alerts"].size();
  };
  EXPECT_EQ(count({"--severity", "high"}), 13u);
  EXPECT_EQ(count({"--severity", "review", "--account", "other"}), 1u);
  EXPECT_EQ(count({"--measure", "cu-sanctions", "--account", "bulk"}), 10u);
  EXPECT_EQ(count({"--state", "resolved"}), 0u);
  EXPECT_EQ(count({"--since", std::to_string(collector::testing::kAlertBase + 1000), "--until",
                   std::to_string(collector::testing::kAlertBase + 2000)}),
            2u);

  CtlRun limited = ctl({"alerts", "--account", "bulk", "--limit", "5", "--format", "csv"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  auto lines = lines_of(limited.out);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "id,severity,first_access,measure,account,ip,country,subdivision,count,state\r");
  EXPECT_NE(limited.err.find("showing the newest 5 alerts; more match"), std::string::npos) << limited.err;
  EXPECT_EQ(lines[1].substr(lines[1].find(',')),
            ",critical,2023-11-14T22:13:21.000Z,cu-sanctions,bulk,10.0.0.10,CU,,3,open\r");
  CtlRun all = ctl({"alerts", "--limit", "0", "--format", "json"});
  EXPECT_EQ(json::parse(all.out)["alerts"].size(), kSeededAlerts);
  EXPECT_TRUE(all.err.empty());
}

TEST_F(IpattribctlAlertsTest, AlertShowsEveryField) {
  const std::string id = id_of("ua-dnr", "other");
  CtlRun r = ctl({"alert", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  EXPECT_EQ(lines[0], "id                  " + id);
  for (const char* line :
       {"measure             ua-dnr (Measure ua-dnr)", "subdivision         UA-14", "severity            review",
        "state               open", "count               3 (0 later hits folded in)"}) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end()) << line << "\n" << r.out;
  }
  CtlRun j = ctl({"alert", id, "--format", "json"});
  EXPECT_EQ(json::parse(j.out)["geo"]["subdivision"], "UA-14");
  CtlRun missing = ctl({"alert", "999999"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("unknown alert"), std::string::npos);
  EXPECT_EQ(ctl({"alert", "abc"}).exit_code, 2);
  EXPECT_EQ(ctl({"alert", "0"}).exit_code, 2);
}

TEST_F(IpattribctlAlertsTest, AckAndResolveRecordWho) {
  const std::string id = id_of("ru-adversary", "acme");
  CtlRun ack = ctl({"ack", id, "--by", "alice", "--note", "calling the customer"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_EQ(ack.out, "alert " + id + " acknowledged by alice\n");
  json shown = json::parse(ctl({"alert", id, "--format", "json"}).out);
  EXPECT_EQ(shown["state_by"], "alice");
  EXPECT_EQ(shown["state_note"], "calling the customer");

  CtlRun again = ctl({"ack", id, "--by", "mallory"});
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_NE(again.err.find("already acknowledged (by alice)"), std::string::npos) << again.err;

  // --by defaults to the login name.
  CtlRun resolve = ctl({"resolve", id, "--format", "json"}, "USER=bob");
  ASSERT_EQ(resolve.exit_code, 0) << resolve.err;
  json resolved = json::parse(resolve.out);
  EXPECT_EQ(resolved["state"], "resolved");
  EXPECT_EQ(resolved["state_by"], "bob");
  EXPECT_EQ(ctl({"resolve", id, "--by", "carol"}).exit_code, 4);

  CtlRun nobody = ctl({"ack", id_of("sy-watch", "other")}, "USER= LOGNAME=");
  EXPECT_EQ(nobody.exit_code, 2);
  EXPECT_NE(nobody.err.find("--by is required"), std::string::npos) << nobody.err;
  EXPECT_EQ(ctl({"ack", "999999", "--by", "alice"}).exit_code, 3);
  CtlRun control = ctl({"ack", id_of("sy-watch", "other"), "--by", "a\x1b[31m"});
  EXPECT_EQ(control.exit_code, 1);
  EXPECT_NE(control.err.find("by is required"), std::string::npos) << control.err;
}

TEST_F(IpattribctlAlertsTest, MeasuresTableAndJson) {
  CtlRun r = ctl({"measures"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].rfind("ID            SEVERITY  EFFECTIVE   EXPIRES  MATCHES", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find("country CU; network 192.0.2.0/24; asn 64500"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("Cuba: comprehensive sanctions"), std::string::npos);
  CtlRun j = ctl({"measures", "--format", "json"});
  EXPECT_EQ(json::parse(j.out)["source"], "/etc/ipattrib/special-measures.toml");
}

TEST_F(IpattribctlAlertsTest, ScanPassesTheMeasure) {
  CtlRun one = ctl({"scan", "--measure", "cu-sanctions"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "alerts_created  3\nmeasures        1\n");
  CtlRun all = ctl({"scan", "--format", "json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(json::parse(all.out)["measures"], 2);
  CtlRun unknown = ctl({"scan", "--measure", "nope"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("unknown measure"), std::string::npos);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(scanned_, (std::vector<std::string>{"cu-sanctions", "", "nope"}));
}

TEST(IpattribctlAlertsUnconfiguredTest, SaysAlertsAreNotConfigured) {
  std::string pattern = (std::filesystem::temp_directory_path() / "ctl-noalerts-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  ApiTestServer server;
  CtlRun r = testing::run_ctl(server.url(), pattern, {"alerts"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ipattribctl: alerts are not configured on this collector\n");
  EXPECT_EQ(testing::run_ctl(server.url(), pattern, {"measures"}).exit_code, 1);
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}

}  // namespace
}  // namespace ipattrib::ctl
