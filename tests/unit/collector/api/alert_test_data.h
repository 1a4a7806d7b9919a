// A known set of alerts for the alert API and ipattribctl tests, written
// through AlertStore::record_hits so every store implementation holds the
// same data set.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "collector/alerts/alert_store.h"
#include "tests/unit/collector/api/api_test_server.h"

namespace ipattrib::collector::testing {

// Alerts are created one second apart from here (created_ms).
inline constexpr std::int64_t kAlertBase = kBase + 86'400'000;
// The data set (see alert_test_data.cc): 15 alerts: 12 critical, 1 high, 1 review, 1 info.
inline constexpr std::size_t kSeededAlerts = 15;
inline constexpr const char* kHostileAccount = "line\nbreak\x1b[31m";

Status seed_alerts(AlertStore& store);

// A fresh SQLite alert store in its own temp dir, removed afterwards.
class TempAlertStore {
 public:
  TempAlertStore();
  ~TempAlertStore();
  AlertStore& operator*() { return *store_; }
  AlertStore* get() { return store_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<AlertStore> store_;
};

}  // namespace ipattrib::collector::testing
