#include "agent/ship/spool_record.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace ipattrib::agent {
namespace {

constexpr std::uint8_t kMagic[4] = {'I', 'P', 'S', 'B'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kCrcOffset = 28;

template <typename T>
void put_le(std::uint8_t* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

template <typename T>
T get_le(const std::uint8_t* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(static_cast<T>(in[i]) << (8 * i));
  return value;
}

std::uint32_t record_crc(std::span<const std::uint8_t> head, std::span<const std::uint8_t> frame) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, head.data(), static_cast<uInt>(kCrcOffset));
  // zlib takes uInt lengths; frames are far below 4 GiB but feed in chunks anyway.
  std::size_t done = 0;
  while (done < frame.size()) {
    const std::size_t n = std::min<std::size_t>(frame.size() - done, 1u << 30);
    crc = crc32(crc, frame.data() + done, static_cast<uInt>(n));
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::array<std::uint8_t, kSpoolHeaderBytes> encode_spool_header(const SpoolRecordHeader& header,
                                                                std::span<const std::uint8_t> frame) {
  std::array<std::uint8_t, kSpoolHeaderBytes> out{};
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  put_le<std::uint32_t>(out.data() + 4, kFormatVersion);
  put_le<std::uint64_t>(out.data() + 8, header.sequence);
  put_le<std::uint64_t>(out.data() + 16, header.access_count);
  put_le<std::uint32_t>(out.data() + 24, header.frame_bytes);
  put_le<std::uint32_t>(out.data() + kCrcOffset, record_crc(out, frame));
  return out;
}

SpoolRecordCheck check_spool_record(std::span<const std::uint8_t> bytes, SpoolRecordHeader& header) {
  if (bytes.size() < kSpoolHeaderBytes) {
    return bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) != 0 ? SpoolRecordCheck::kCorrupt
                                                                          : SpoolRecordCheck::kTorn;
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return SpoolRecordCheck::kCorrupt;
  header.sequence = get_le<std::uint64_t>(bytes.data() + 8);
  header.access_count = get_le<std::uint64_t>(bytes.data() + 16);
  header.frame_bytes = get_le<std::uint32_t>(bytes.data() + 24);
  if (get_le<std::uint32_t>(bytes.data() + 4) != kFormatVersion) return SpoolRecordCheck::kCorrupt;
  const std::size_t expected = kSpoolHeaderBytes + header.frame_bytes;
  if (bytes.size() < expected) return SpoolRecordCheck::kTorn;
  if (bytes.size() > expected) return SpoolRecordCheck::kCorrupt;
  const std::uint32_t stored_crc = get_le<std::uint32_t>(bytes.data() + kCrcOffset);
  if (record_crc(bytes.first(kSpoolHeaderBytes), bytes.subspan(kSpoolHeaderBytes)) != stored_crc) {
    return SpoolRecordCheck::kCorrupt;
  }
  return SpoolRecordCheck::kOk;
}

}  // namespace ipattrib::agent
