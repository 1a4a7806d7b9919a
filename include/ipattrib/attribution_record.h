// AttributionRecord: what the agent ships and the collector stores — for one
// (account, client IP, access class) within one aggregation window, every
// access time plus the context the ledger keeps. Shared by the agent's
// aggregator, the wire codec and the collector's ledger.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ipattrib/geo_info.h"
#include "ipattrib/ip_address.h"

namespace ipattrib {

enum class RecordClass : std::uint8_t { kAccess = 0, kAdmin = 1 };
// Same values and names as the agent's IpSource.
enum class RecordIpSource : std::uint8_t {
  kSocket = 0,
  kProxyProtocol = 1,
  kForwarded = 2,
  kXForwardedFor = 3,
  kXRealIp = 4,
};

// Geo as a value (GeoInfo holds a view for as_org; records own their text).
struct RecordGeo {
  std::string country;             // ISO 3166-1 alpha-2, "" = unknown
  std::string registered_country;  // "" = unknown
  std::string subdivision;         // ISO 3166-2 e.g. "UA-43", "" = unknown
  std::uint32_t asn = 0;           // 0 = unknown
  std::string as_org;
  std::uint8_t anonymizer_flags = 0;  // AnonymizerFlag bits
  std::int64_t db_build_epoch = 0;
  friend bool operator==(const RecordGeo&, const RecordGeo&) = default;
};

struct AttributionRecord {
  std::string account;  // never empty in a shipped record
  std::string principal;  // "" when none
  IpAddress client_ip;
  RecordClass access_class = RecordClass::kAccess;
  RecordIpSource ip_source = RecordIpSource::kSocket;
  std::string gateway;
  RecordGeo geo;
  // Every access, milliseconds since the Unix epoch, ascending. count() is
  // access_times_ms.size(): nothing about individual accesses is lost.
  std::vector<std::int64_t> access_times_ms;
  friend bool operator==(const AttributionRecord&, const AttributionRecord&) = default;
};

// A sequenced batch from one agent, the unit of shipping and of exactly-once
// application in the ledger.
struct RecordBatch {
  std::string agent_id;
  std::uint64_t sequence = 0;  // per agent, strictly increasing from 1
  std::vector<AttributionRecord> records;
  friend bool operator==(const RecordBatch&, const RecordBatch&) = default;
};

}  // namespace ipattrib
