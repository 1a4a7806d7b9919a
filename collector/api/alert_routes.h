// AlertRoutes: the analysts' side of special-measures alerts in the query
// API — list and read alerts, acknowledge and resolve them, the measures in
// effect, and a retroactive scan on demand. QueryApi hands it the requests
// for /v1/alerts, /v1/measures and /v1/scan after the bearer-token check;
// docs/api.md is the contract.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/alerts/alert_store.h"
#include "collector/api/api_reply.h"
#include "ipattrib/status.h"

namespace httplib {
struct Request;
}

namespace ipattrib::collector {

// What POST /v1/scan did, as the scan callback reports it.
struct ScanOutcome {
  enum class Kind {
    kFinished,        // 200: the scan ran to the end; summary says what it raised
    kStarted,         // 202: the scan runs on in the background
    kUnknownMeasure,  // 404: no measure in effect has the requested id
    kBusy,            // 409: a scan is already running
  };
  Kind kind = Kind::kFinished;
  nlohmann::json summary = nlohmann::json::object();  // the reply body (an object)
};

// Everything the alert endpoints serve from; each part is optional and an
// endpoint whose part is missing answers 503 "... not configured".
struct AlertEndpoints {
  AlertStore* store = nullptr;  // must outlive the server; /v1/alerts...
  // The policy in effect as JSON (GET /v1/measures); null json = none loaded.
  std::function<nlohmann::json()> measures;
  // Scans the ledger for past accesses under one measure (measure_id) or
  // under every measure in effect (""). A failed Status answers 500.
  std::function<Status(const std::string& measure_id, ScanOutcome& outcome)> scan;
};

class AlertRoutes {
 public:
  static constexpr std::size_t kMaxByLength = 128;     // bytes of "by"
  static constexpr std::size_t kMaxNoteLength = 4096;  // bytes of "note"

  explicit AlertRoutes(std::uint32_t max_page) : max_page_(max_page) {}

  void set_endpoints(AlertEndpoints endpoints) { endpoints_ = std::move(endpoints); }

  // True for the paths this class answers ("/v1/alerts...", "/v1/measures",
  // "/v1/scan"), given as QueryApi's decoded segments.
  static bool owns(const std::vector<std::string>& segments);
  // Fills reply and returns the route name for the API's metrics.
  std::string dispatch(const httplib::Request& req, const std::vector<std::string>& segments, ApiReply& reply);

 private:
  bool store_configured(ApiReply& reply) const;
  void list_alerts(const httplib::Request& req, ApiReply& reply);
  void get_alert(const std::string& id_text, ApiReply& reply);
  void change_state(const std::string& id_text, AlertState target, const httplib::Request& req, ApiReply& reply);
  void measures(ApiReply& reply);
  void scan(const httplib::Request& req, ApiReply& reply);

  std::uint32_t max_page_;
  AlertEndpoints endpoints_;
};

}  // namespace ipattrib::collector
