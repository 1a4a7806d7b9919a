// Test helpers for the mapped pcap reader: classic pcap files written byte by
// byte in either byte order and timestamp resolution (libpcap's dumper only
// writes host-order microsecond files), and a reader that drains any
// PacketSource into copies, for comparing the mapped reader with libpcap.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent::test {

struct PcapRecordSpec {
  std::uint32_t seconds = 0;
  std::uint32_t fraction = 0;  // µs or ns, as the file says
  std::vector<std::uint8_t> bytes;
  std::uint32_t wire_length = 0;  // 0: bytes.size()
  std::int64_t stored_length = -1;  // -1: bytes.size(); else the caplen field as written
};

struct PcapFileSpec {
  bool big_endian = false;
  bool nanoseconds = false;
  std::uint16_t version_major = 2;
  std::uint16_t version_minor = 4;
  std::uint32_t snaplen = 65535;
  std::uint32_t linktype = 1;
  std::vector<PcapRecordSpec> records;
};

inline void put_u32(std::string& out, std::uint32_t v, bool big_endian) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (big_endian ? 8 * (3 - i) : 8 * i)));
}

inline void put_u16(std::string& out, std::uint16_t v, bool big_endian) {
  out.push_back(static_cast<char>(big_endian ? v >> 8 : v));
  out.push_back(static_cast<char>(big_endian ? v : v >> 8));
}

inline std::string pcap_bytes(const PcapFileSpec& spec) {
  std::string out;
  const bool be = spec.big_endian;
  put_u32(out, spec.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, be);
  put_u16(out, spec.version_major, be);
  put_u16(out, spec.version_minor, be);
  put_u32(out, 0, be);  // thiszone
  put_u32(out, 0, be);  // sigfigs
  put_u32(out, spec.snaplen, be);
  put_u32(out, spec.linktype, be);
  for (const PcapRecordSpec& r : spec.records) {
    put_u32(out, r.seconds, be);
    put_u32(out, r.fraction, be);
    put_u32(out, r.stored_length >= 0 ? static_cast<std::uint32_t>(r.stored_length)
                                    : static_cast<std::uint32_t>(r.bytes.size()),
          be);
    put_u32(out, r.wire_length != 0 ? r.wire_length : static_cast<std::uint32_t>(r.bytes.size()), be);
    out.append(r.bytes.begin(), r.bytes.end());
  }
  return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct ReadFrame {
  std::int64_t ts_us = 0;
  std::vector<std::uint8_t> bytes;
  std::uint32_t wire_length = 0;
  bool operator==(const ReadFrame&) const = default;
};

struct ReadResult {
  std::vector<ReadFrame> frames;
  ReadStatus last = ReadStatus::kFrames;  // kEnd or kError
  std::string error;
  std::map<std::string, std::uint64_t> counters;
};

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

// Reads until kEnd or kError with bursts of `burst` frames, copying each
// frame before the next read (views are only valid until then).
inline ReadResult drain(PacketSource& source, std::size_t burst) {
  ReadResult result;
  std::vector<RawFrame> frames(burst);
  for (;;) {
    ReadStatus status = ReadStatus::kFrames;
    const std::size_t n = source.read_burst(frames, status);
    for (std::size_t i = 0; i < n; ++i) {
      result.frames.push_back({frames[i].ts_us, {frames[i].data.begin(), frames[i].data.end()}, frames[i].wire_length});
    }
    if (status == ReadStatus::kEnd || status == ReadStatus::kError) {
      result.last = status;
      result.error = source.error();
      break;
    }
  }
  CounterMap sink;
  source.report(sink);
  result.counters = sink.values;
  return result;
}

}  // namespace ipattrib::agent::test
