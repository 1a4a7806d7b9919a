// Values of the special-measures alerting path: a hit (one record that falls
// under one measure), the alert that deduplicated hits accumulate into, and
// the queries and state changes analysts make. Shared by the policy
// evaluator, every AlertStore implementation, the delivery sinks and the API.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipattrib/attribution_record.h"
#include "ipattrib/ip_address.h"

namespace ipattrib::collector {

// Ordered: a lower value is more severe.
enum class Severity : std::uint8_t { kCritical = 0, kHigh = 1, kReview = 2, kInfo = 3 };
std::string_view severity_name(Severity severity);  // "critical", "high", "review", "info"
bool parse_severity(std::string_view text, Severity& severity);

// One record (account, ip, class, from one gateway) that falls under one
// measure. first_access_ms is the record's first access inside the measure's
// effective period; count the record's accesses inside it.
struct AlertHit {
  std::string measure_id;
  std::string measure_title;
  Severity severity = Severity::kInfo;
  std::string reason;  // what matched, e.g. "country IR", "subdivision UA-43", "asn 64500", "tor_exit_node"
  std::string account;
  IpAddress ip;
  RecordClass access_class = RecordClass::kAccess;
  RecordGeo geo;
  std::string gateway;
  std::int64_t first_access_ms = 0;
  std::int64_t last_access_ms = 0;
  std::uint64_t count = 0;
  friend bool operator==(const AlertHit&, const AlertHit&) = default;
};

enum class AlertState : std::uint8_t { kOpen = 0, kAcknowledged = 1, kResolved = 2 };
std::string_view alert_state_name(AlertState state);  // "open", "acknowledged", "resolved"
bool parse_alert_state(std::string_view text, AlertState& state);

// Hits of one (measure, account, ip) within the dedup window, as one alert.
// The first hit's fields are kept, except that first_hit.first_access_ms
// becomes the earliest of all folded hits; count and last_access_ms grow with
// every later hit, suppressed_hits counts the hits folded in after the first.
struct Alert {
  std::int64_t id = 0;  // assigned by the store, > 0
  AlertHit first_hit;
  std::int64_t last_access_ms = 0;
  std::uint64_t count = 0;           // accesses over all folded hits
  std::uint64_t suppressed_hits = 0;  // hits folded in after the first
  std::int64_t created_ms = 0;        // when the collector raised it (wall clock)
  std::int64_t updated_ms = 0;
  AlertState state = AlertState::kOpen;
  std::string state_by;  // who acknowledged / resolved it, "" while open
  std::int64_t state_changed_ms = 0;
  std::string state_note;
  bool retroactive = false;  // raised by a retroactive scan of the ledger, not as its accesses arrived
  friend bool operator==(const Alert&, const Alert&) = default;
};

struct AlertQuery {
  std::optional<AlertState> state;
  std::optional<Severity> min_severity;  // kHigh selects critical and high
  std::string measure_id;                // "" = any
  std::string account;                   // "" = any
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();  // on created_ms
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
  std::uint32_t limit = 100;
  std::int64_t before_id = std::numeric_limits<std::int64_t>::max();  // newest first: ids below this
};

// What record_hits() did with one call's hits.
struct RecordHitsResult {
  bool already_evaluated = false;  // (agent, sequence) was recorded before: nothing changed
  std::uint64_t alerts_created = 0;
  std::uint64_t hits_suppressed = 0;  // folded into an existing alert
  std::vector<std::int64_t> created_ids;
};

// One pending delivery of one alert to one sink (the persistent outbox).
struct OutboxEntry {
  std::int64_t id = 0;
  std::int64_t alert_id = 0;
  std::string sink;  // the sink's configured name
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::int64_t leased_until_ms = 0;  // after a claim: when the claimer's lease ends
  std::string last_error;
};

}  // namespace ipattrib::collector
