// The classic pcap file format (libpcap's savefile: a 24-byte file header,
// then 16-byte record headers each followed by its captured bytes) parsed
// from bytes in memory the way libpcap 1.10 reads it at microsecond
// precision, so PcapFileReader can hand out views into the file's bytes
// (mapped, or read into its buffer) and deliver the frames, timestamps and
// lengths libpcap would. Pure: no
// I/O, no allocation; tests/fuzz/fuzz_pcap_file.cc checks it against libpcap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent {

inline constexpr std::size_t kPcapFileHeaderSize = 24;
inline constexpr std::size_t kPcapRecordHeaderSize = 16;
// libpcap's ceiling on a record's captured length (MAXIMUM_SNAPLEN) for every
// link type the decoder reads; a larger one is a damaged file.
inline constexpr std::uint32_t kPcapMaximumSnaplen = 262144;

// What the file header says, as libpcap would use it.
struct PcapFileFormat {
  bool swapped = false;      // written in the other byte order than this host's
  bool nanoseconds = false;  // a1b23c4d: record timestamps count nanoseconds
  // The header's snaplen as libpcap 1.10 adjusts it: 0, or above INT_MAX (a
  // negative int), becomes kPcapMaximumSnaplen; anything else stays. Longer
  // records are cut to it (libpcap's rule for files whose header understates
  // their records).
  std::uint32_t snapshot = kPcapMaximumSnaplen;
  int linktype = 0;  // LINKTYPE_* number from the header
  int dlt = 0;       // the DLT_* libpcap turns it into (pcap_datalink)
  LinkType link_type = LinkType::kEthernet;
};

// The header of a file this parser reads exactly like libpcap: one of the
// four classic magics (a1b2c3d4 µs, a1b23c4d ns, in either byte order),
// version 2.4, no FCS/reserved bits in the link type, and a link type the
// decoder reads. Anything else (pcapng, other versions or magics, too short,
// unsupported link types) is nullopt with the reason in `why`: libpcap reads
// such a file or reports what is wrong with it.
std::optional<PcapFileFormat> parse_pcap_file_header(std::span<const std::uint8_t> file, std::string& why);

enum class PcapRecordStatus : std::uint8_t {
  kRecord,          // `record` holds the next frame
  kEnd,             // offset is the end of the file: read completely
  kTruncatedHeader, // fewer than 16 bytes left for a record header
  kTruncatedData,   // the record's captured bytes run past the end of the file
  kCaplenTooLarge,  // captured length above kPcapMaximumSnaplen
};

struct PcapRecord {
  std::int64_t ts_us = 0;
  const std::uint8_t* data = nullptr;
  std::uint32_t caplen = 0;       // bytes delivered: the stored ones, at most the snapshot
  std::uint32_t wire_length = 0;  // length on the wire, as recorded
  std::uint32_t stored_length = 0;  // the record's captured-length field
  std::size_t next_offset = 0;    // where the next record starts
};

namespace pcap_detail {

inline std::uint32_t load32(const std::uint8_t* p, bool swapped) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return swapped ? __builtin_bswap32(v) : v;
}

}  // namespace pcap_detail

// Parses the record at `offset` of `file` (offset >= kPcapFileHeaderSize, at
// a record boundary). Nanoseconds are divided down to microseconds. On an
// error the fields read so far (stored_length) are set for the message.
inline PcapRecordStatus parse_pcap_record(const PcapFileFormat& format, std::span<const std::uint8_t> file,
                                          std::size_t offset, PcapRecord& record) {
  const std::size_t left = file.size() - offset;
  if (left == 0) return PcapRecordStatus::kEnd;
  if (left < kPcapRecordHeaderSize) return PcapRecordStatus::kTruncatedHeader;
  const std::uint8_t* header = file.data() + offset;
  // libpcap 1.10 sign-extends host-order timestamp fields and zero-extends
  // swapped ones (its byte swap yields an unsigned value); so does this.
  const std::uint32_t raw_seconds = pcap_detail::load32(header, format.swapped);
  const std::uint32_t raw_fraction = pcap_detail::load32(header + 4, format.swapped);
  const std::int64_t seconds = format.swapped ? std::int64_t{raw_seconds} : std::int64_t{static_cast<std::int32_t>(raw_seconds)};
  std::int64_t fraction = format.swapped ? std::int64_t{raw_fraction} : std::int64_t{static_cast<std::int32_t>(raw_fraction)};
  const std::uint32_t stored = pcap_detail::load32(header + 8, format.swapped);
  record.stored_length = stored;
  if (stored > kPcapMaximumSnaplen) return PcapRecordStatus::kCaplenTooLarge;
  if (stored > left - kPcapRecordHeaderSize) return PcapRecordStatus::kTruncatedData;
  if (format.nanoseconds) fraction /= 1000;
  record.ts_us = seconds * 1000000 + fraction;
  record.data = header + kPcapRecordHeaderSize;
  record.caplen = stored < format.snapshot ? stored : format.snapshot;
  record.wire_length = pcap_detail::load32(header + 12, format.swapped);
  record.next_offset = offset + kPcapRecordHeaderSize + stored;
  return PcapRecordStatus::kRecord;
}

// libpcap's words for a record error (pcap_geterr after pcap_next_ex), given
// the bytes of `file` left at the record's offset.
std::string describe_pcap_record_error(PcapRecordStatus status, const PcapFileFormat& format,
                                       const PcapRecord& record, std::size_t bytes_left);

}  // namespace ipattrib::agent
