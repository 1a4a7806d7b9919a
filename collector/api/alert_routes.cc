#include "collector/api/alert_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

#include "collector/alerts/alert_json.h"
#include "collector/api/request_body.h"
#include "collector/api/request_params.h"

namespace ipattrib::collector {
namespace {

constexpr const char* kNoStore = "alerts are not configured on this collector";

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool parse_id(const std::string& text, std::int64_t& id) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size() && id > 0;
}

void store_failed(const Status& s, ApiReply& reply) {
  spdlog::error("query api: alert store: {}", s.message());
  reply.error(500, "store error");
}

bool read_alert_filters(const httplib::Request& req, std::uint32_t max_page, AlertQuery& q, std::string& error) {
  if (!only_params(req, {"state", "severity", "measure", "account", "since", "until", "limit", "before"}, error)) {
    return false;
  }
  if (req.has_param("state")) {
    AlertState state;
    if (!parse_alert_state(req.get_param_value("state"), state)) {
      error = "state must be open, acknowledged or resolved";
      return false;
    }
    q.state = state;
  }
  if (req.has_param("severity")) {
    Severity severity;
    if (!parse_severity(req.get_param_value("severity"), severity)) {
      error = "severity must be critical, high, review or info";
      return false;
    }
    q.min_severity = severity;
  }
  q.measure_id = req.get_param_value("measure");
  q.account = req.get_param_value("account");
  TimeRange range;
  if (!read_range(req, range, error) || !read_limit(req, max_page, q.limit, error)) return false;
  q.since_ms = range.since_ms;
  q.until_ms = range.until_ms;
  if (req.has_param("before") && !parse_id(req.get_param_value("before"), q.before_id)) {
    error = "before must be an alert id (a positive integer)";
    return false;
  }
  return true;
}

// `by` names a person in tables and syslog lines: no control characters.
bool valid_by(const std::string& by) {
  if (by.empty()) return false;
  for (char c : by) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

// open -> acknowledged -> resolved; open -> resolved; nothing else.
bool moves_forward(AlertState from, AlertState to) { return static_cast<int>(to) > static_cast<int>(from); }

void conflict(const Alert& alert, AlertState target, ApiReply& reply) {
  std::string message =
      "alert " + std::to_string(alert.id) + " is already " + std::string(alert_state_name(alert.state));
  if (!alert.state_by.empty()) message += " (by " + alert.state_by + ")";
  message += "; it cannot become " + std::string(alert_state_name(target));
  reply.json(409, {{"error", message}, {"alert", alert_to_json(alert)}});
}

}  // namespace

bool AlertRoutes::owns(const std::vector<std::string>& seg) {
  return seg.size() >= 2 && (seg[1] == "alerts" || seg[1] == "measures" || seg[1] == "scan");
}

std::string AlertRoutes::dispatch(const httplib::Request& req, const std::vector<std::string>& seg, ApiReply& reply) {
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  std::string route = "v1";
  if (seg[1] == "alerts" && seg.size() == 2) {
    route = "alerts";
    if (get) list_alerts(req, reply);
  } else if (seg[1] == "alerts" && seg.size() == 3) {
    route = "alert";
    if (get) get_alert(seg[2], reply);
  } else if (seg[1] == "alerts" && seg.size() == 4 && (seg[3] == "ack" || seg[3] == "resolve")) {
    const bool ack = seg[3] == "ack";
    route = ack ? "alert_ack" : "alert_resolve";
    if (post) change_state(seg[2], ack ? AlertState::kAcknowledged : AlertState::kResolved, req, reply);
  } else if (seg[1] == "measures" && seg.size() == 2) {
    route = "measures";
    if (get) measures(reply);
  } else if (seg[1] == "scan" && seg.size() == 2) {
    route = "scan";
    if (post) scan(req, reply);
  } else {
    reply.error(404, "no such endpoint");
    return route;
  }
  // Each endpoint takes one method; a handler that ran has filled the reply.
  const bool wants_post = route == "alert_ack" || route == "alert_resolve" || route == "scan";
  if (wants_post ? !post : !get) reply.error(405, std::string("use ") + (wants_post ? "POST" : "GET"));
  return route;
}

bool AlertRoutes::store_configured(ApiReply& reply) const {
  if (endpoints_.store != nullptr) return true;
  reply.error(503, kNoStore);
  return false;
}

void AlertRoutes::list_alerts(const httplib::Request& req, ApiReply& reply) {
  AlertQuery q;
  std::string error;
  if (!read_alert_filters(req, max_page_, q, error)) {
    reply.error(400, error);
    return;
  }
  if (!store_configured(reply)) return;
  std::vector<Alert> alerts;
  bool more = false;
  if (Status s = endpoints_.store->list_alerts(q, alerts, more); !s) {
    store_failed(s, reply);
    return;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const Alert& a : alerts) items.push_back(alert_to_json(a));
  const bool next = more && !alerts.empty();
  reply.json(
      200, {{"alerts", std::move(items)}, {"next_before", next ? nlohmann::json(alerts.back().id) : nlohmann::json()}});
}

void AlertRoutes::get_alert(const std::string& id_text, ApiReply& reply) {
  std::int64_t id = 0;
  if (!parse_id(id_text, id)) {
    reply.error(400, "alert id must be a positive integer");
    return;
  }
  if (!store_configured(reply)) return;
  Alert alert;
  bool found = false;
  if (Status s = endpoints_.store->get_alert(id, alert, found); !s) {
    store_failed(s, reply);
    return;
  }
  if (!found) {
    reply.error(404, "unknown alert");
    return;
  }
  reply.json(200, alert_to_json(alert));
}

void AlertRoutes::change_state(const std::string& id_text, AlertState target, const httplib::Request& req,
                               ApiReply& reply) {
  std::int64_t id = 0;
  nlohmann::json body;
  std::string by, note, error;
  if (!only_params(req, {}, error) || !read_json_body(req, body, error) || !only_fields(body, {"by", "note"}, error) ||
      !read_string_field(body, "by", kMaxByLength, by, error) || !read_string_field(body, "note", kMaxNoteLength, note, error)) {
    reply.error(400, error);
    return;
  }
  if (!valid_by(by)) {
    reply.error(400, "by is required: who is making the change (no control characters)");
    return;
  }
  if (!parse_id(id_text, id)) {
    reply.error(400, "alert id must be a positive integer");
    return;
  }
  if (!store_configured(reply)) return;
  Alert alert;
  bool found = false;
  if (Status s = endpoints_.store->get_alert(id, alert, found); !s) return store_failed(s, reply);
  if (!found) return reply.error(404, "unknown alert");
  if (!moves_forward(alert.state, target)) return conflict(alert, target, reply);
  const std::int64_t now = wall_clock_ms();
  Status changed = endpoints_.store->set_alert_state(id, target, by, note, now, found);
  // Re-read either way: the reply carries the alert as stored, and another
  // analyst's change may have landed first (the store then refuses ours, or
  // keeps theirs when it was the same state).
  Status reread = endpoints_.store->get_alert(id, alert, found);
  if (!reread) return store_failed(reread, reply);
  if (!found) return reply.error(404, "unknown alert");
  const bool ours = alert.state == target && alert.state_changed_ms == now && alert.state_by == by;
  if (!changed && moves_forward(alert.state, target)) return store_failed(changed, reply);
  if (!ours) return conflict(alert, target, reply);
  spdlog::info("query api: alert {} {} by {}", id, alert_state_name(target), by);
  reply.json(200, alert_to_json(alert));
}

void AlertRoutes::measures(ApiReply& reply) {
  if (!endpoints_.measures) {
    reply.error(503, "special measures are not configured on this collector");
    return;
  }
  nlohmann::json policy = endpoints_.measures();
  if (policy.is_null()) {
    reply.error(503, "no special-measures policy is loaded");
    return;
  }
  reply.json(200, policy);
}

void AlertRoutes::scan(const httplib::Request& req, ApiReply& reply) {
  nlohmann::json body;
  std::string measure, error;
  if (!only_params(req, {}, error) || !read_json_body(req, body, error) || !only_fields(body, {"measure"}, error) ||
      !read_string_field(body, "measure", kMaxByLength, measure, error)) {
    reply.error(400, error);
    return;
  }
  if (!endpoints_.scan) {
    reply.error(503, "retroactive scans are not configured on this collector");
    return;
  }
  ScanOutcome outcome;
  if (Status s = endpoints_.scan(measure, outcome); !s) {
    spdlog::error("query api: scan failed: {}", s.message());
    reply.error(500, "scan failed");
    return;
  }
  switch (outcome.kind) {
    case ScanOutcome::Kind::kFinished:
      reply.json(200, outcome.summary);
      break;
    case ScanOutcome::Kind::kStarted:
      reply.json(202, outcome.summary);
      break;
    case ScanOutcome::Kind::kUnknownMeasure:
      reply.error(404, "unknown measure");
      break;
    case ScanOutcome::Kind::kBusy:
      reply.error(409, "a scan is already running");
      break;
  }
}

}  // namespace ipattrib::collector
