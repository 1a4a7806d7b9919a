// Values the ledger stores and answers with: per (account, IP, class)
// summaries, single accesses, and the queries that select them. Shared by
// every LedgerStore implementation and by the query API that serialises them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ipattrib/attribution_record.h"
#include "ipattrib/ip_address.h"

namespace ipattrib::collector {

// Inclusive range of milliseconds since the Unix epoch; the defaults select
// everything.
struct TimeRange {
  std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
  bool contains(std::int64_t t) const { return t >= since_ms && t <= until_ms; }
};

// What apply_batch() did. A duplicate batch (sequence not above the agent's
// highest committed one) changes nothing and is still acknowledged.
struct ApplyResult {
  bool duplicate = false;
  std::uint64_t records_applied = 0;
  std::uint64_t accesses_applied = 0;
  std::uint64_t summaries_created = 0;
};

struct RetentionResult {
  std::uint64_t accesses_deleted = 0;
  std::uint64_t summaries_deleted = 0;
};

// One (account, IP, class) over its whole life in the ledger. first_seen_ms
// and access_count cover every access ever applied, including those whose
// detail retention has since removed.
struct IpSummary {
  std::string account;
  IpAddress ip;
  RecordClass access_class = RecordClass::kAccess;
  RecordIpSource ip_source = RecordIpSource::kSocket;  // of the latest record
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::uint64_t access_count = 0;
  RecordGeo first_geo;                // as resolved at first sight
  RecordGeo last_geo;                 // as resolved at last sight
  std::vector<std::string> gateways;  // sorted, distinct
  std::string last_principal;         // latest non-empty principal, "" if none
  friend bool operator==(const IpSummary&, const IpSummary&) = default;
};

// One access: the date and time the record-keeping rule asks for, with
// where it came from and through which gateway.
struct Access {
  std::int64_t time_ms = 0;
  IpAddress ip;
  RecordClass access_class = RecordClass::kAccess;
  std::string gateway;
  friend bool operator==(const Access&, const Access&) = default;
};

// Position in an account's accesses, which are totally ordered by
// (time, ip, class, gateway). "After the first `skip_at_time` accesses at
// time_ms": equal keys are indistinguishable, so a count is enough.
struct AccessCursor {
  std::int64_t time_ms = std::numeric_limits<std::int64_t>::min();
  std::uint64_t skip_at_time = 0;
  friend bool operator==(const AccessCursor&, const AccessCursor&) = default;
};

// account -> IPs. A summary matches when its [first_seen, last_seen] overlaps
// the range; `country` matches the country at first or at last sight.
struct AccountIpsQuery {
  std::string account;
  TimeRange range;
  std::optional<RecordClass> access_class;
  std::string country;  // "" = any
  std::uint32_t limit = 1000;
  std::uint64_t offset = 0;  // in (ip, class) order
};

// account -> accesses in time order, one page at a time.
struct AccountAccessesQuery {
  std::string account;
  TimeRange range;
  std::optional<IpAddress> ip;
  std::optional<RecordClass> access_class;
  std::uint32_t limit = 1000;
  AccessCursor after;  // default: from the start
};

// IP or network -> the accounts used from it, as their summaries.
struct NetworkAccountsQuery {
  Cidr network;  // a single address is a /32 or /128
  TimeRange range;
  std::uint32_t limit = 1000;
  std::uint64_t offset = 0;  // in (ip, account, class) order
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool more = false;  // another page exists
};

struct AccessPage {
  std::vector<Access> items;
  std::optional<AccessCursor> next;  // set when more accesses follow
};

// An account's full record, for a records request.
struct AccountExport {
  std::vector<IpSummary> ips;
  std::vector<Access> accesses;  // time order
};

}  // namespace ipattrib::collector
