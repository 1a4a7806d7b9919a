// SpoolRecord: the on-disk form of one spooled batch — a fixed header that
// names the batch (sequence, how many accesses it holds, so a dropped batch
// can be counted without decoding it) and a CRC32 over header and frame, so a
// torn or damaged file is recognised on restart instead of being shipped.
//
//   offset size
//   0      4    magic "IPSB"
//   4      4    format version, u32 little-endian (1)
//   8      8    sequence, u64 LE
//   16     8    access_count, u64 LE
//   24     4    frame_bytes, u32 LE
//   28     4    crc32 (zlib) of bytes 0..27 followed by the frame
//   32     n    the encoded BATCH frame (docs/protocol.md)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ipattrib::agent {

inline constexpr std::size_t kSpoolHeaderBytes = 32;

struct SpoolRecordHeader {
  std::uint64_t sequence = 0;
  std::uint64_t access_count = 0;
  std::uint32_t frame_bytes = 0;
};

enum class SpoolRecordCheck : std::uint8_t {
  kOk,
  kTorn,     // shorter than its header says: a write that did not finish
  kCorrupt,  // wrong magic/version, CRC mismatch, or bytes beyond the frame
};

std::array<std::uint8_t, kSpoolHeaderBytes> encode_spool_header(const SpoolRecordHeader& header,
                                                                std::span<const std::uint8_t> frame);

// Checks a whole file's bytes; header is filled whenever the first 32 bytes
// are present and carry the magic (also for kTorn/kCorrupt, for the log).
SpoolRecordCheck check_spool_record(std::span<const std::uint8_t> bytes, SpoolRecordHeader& header);

}  // namespace ipattrib::agent
