// The uncompressed record payload of a BATCH (internal to the wire library):
// a string table, then each record with string-table indexes, the IP, geo and
// delta-coded access times. docs/protocol.md section "Record payload".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ipattrib/attribution_record.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::wire {

// Validates every record against the limits and appends the payload to out.
Status encode_record_payload(const std::vector<AttributionRecord>& records, std::vector<std::uint8_t>& out,
                             const WireLimits& limits);

// Reads exactly record_count records from payload (which must be fully used).
Status decode_record_payload(std::span<const std::uint8_t> payload, std::uint32_t record_count,
                             std::vector<AttributionRecord>& records, const WireLimits& limits);

}  // namespace ipattrib::wire
