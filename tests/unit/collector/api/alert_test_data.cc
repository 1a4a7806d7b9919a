#include "tests/unit/collector/api/alert_test_data.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <vector>

#include "collector/alerts/sqlite/sqlite_alert_store.h"

namespace ipattrib::collector::testing {
namespace {

AlertHit hit(const char* measure, Severity severity, std::string account, const char* ip, const char* country,
             const char* subdivision = "") {
  AlertHit h;
  h.measure_id = measure;
  h.measure_title = std::string("Measure ") + measure;
  h.severity = severity;
  h.reason = std::string("country ") + country;
  h.account = std::move(account);
  h.ip = *IpAddress::parse(ip);
  h.geo.country = country;
  h.geo.subdivision = subdivision;
  h.gateway = "gw1";
  h.first_access_ms = kBase + 1000;
  h.last_access_ms = kBase + 2000;
  h.count = 3;
  return h;
}

}  // namespace

Status seed_alerts(AlertStore& store) {
  std::vector<std::vector<AlertHit>> calls = {
      {hit("cu-sanctions", Severity::kCritical, "acme", "203.0.113.5", "CU")},
      {hit("ru-adversary", Severity::kHigh, "acme", "198.51.100.7", "RU")},
      {hit("ua-dnr", Severity::kReview, "other", "192.0.2.44", "UA", "UA-14")},
      {hit("sy-watch", Severity::kInfo, "other", "2001:db8::45", "SY")},
      {},
      {hit("cu-sanctions", Severity::kCritical, kHostileAccount, "192.0.2.99", "CU")},
  };
  for (int i = 1; i <= 10; ++i) {
    calls[4].push_back(hit("cu-sanctions", Severity::kCritical, "bulk", ("10.0.0." + std::to_string(i)).c_str(), "CU"));
  }
  std::uint64_t sequence = 0;
  for (const auto& hits : calls) {
    RecordHitsResult result;
    const std::int64_t now = kAlertBase + static_cast<std::int64_t>(sequence) * 1000;
    Status s = store.record_hits("agent-1", ++sequence, hits, now, 3'600'000, {}, result);
    if (!s) return s;
  }
  return Status::ok();
}

TempAlertStore::TempAlertStore() {
  std::string pattern = (std::filesystem::temp_directory_path() / "alert-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  dir_ = pattern;
  Status s = open_sqlite_alert_store({dir_ + "/alerts.sqlite3", 5000}, store_);
  EXPECT_TRUE(s) << s.message();
}

TempAlertStore::~TempAlertStore() {
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace ipattrib::collector::testing
