// The BATCH frame: a RecordBatch as a sequence number, the agent id, and the
// records in a compact binary payload (string table, varints, delta-coded
// access times) compressed with zstd. docs/protocol.md has the byte layout.
// Decoding trusts no size from the wire: every count and length is checked
// against the bytes that remain and against WireLimits before anything is
// allocated for it, and decompression is bounded by the limit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ipattrib/attribution_record.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::wire {

inline constexpr int kDefaultZstdLevel = 3;

// The uncompressed head of a BATCH body: enough for the collector to
// acknowledge-and-ignore a retransmitted batch without decompressing it.
struct BatchHeader {
  std::uint64_t sequence = 0;
  std::string agent_id;
  std::uint32_t record_count = 0;
  std::uint32_t payload_bytes = 0;  // decompressed size
};

// Appends a whole BATCH frame to out_frame. Refuses (out_frame untouched) a
// batch the receiver would refuse: sequence 0, empty agent id or account,
// unset IP, no access times or times not ascending, anything over limits.
Status encode_batch(const RecordBatch& batch, std::vector<std::uint8_t>& out_frame,
                    const WireLimits& limits = WireLimits(), int zstd_level = kDefaultZstdLevel);

// Reads a BATCH frame body into batch (replacing its contents).
Status decode_batch(std::span<const std::uint8_t> body, RecordBatch& batch, const WireLimits& limits = WireLimits());

// Reads only the uncompressed head of a BATCH frame body.
Status peek_batch_header(std::span<const std::uint8_t> body, BatchHeader& header,
                         const WireLimits& limits = WireLimits());

}  // namespace ipattrib::wire
