#include "agent/capture/pcap_file_format.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/capture/pcap_link_type.h"

namespace ipattrib::agent {
namespace {

constexpr std::uint32_t kMicrosecondMagic = 0xa1b2c3d4;
constexpr std::uint32_t kNanosecondMagic = 0xa1b23c4d;
constexpr std::uint32_t kLinktypeRaw = 101;  // libpcap reads it as the local DLT_RAW
constexpr int kDltRaw = 12;

}  // namespace

std::optional<PcapFileFormat> parse_pcap_file_header(std::span<const std::uint8_t> file, std::string& why) {
  if (file.size() < kPcapFileHeaderSize) {
    why = fmt::format("shorter than a pcap file header ({} bytes)", file.size());
    return std::nullopt;
  }
  PcapFileFormat format;
  std::uint32_t magic;
  std::memcpy(&magic, file.data(), sizeof(magic));
  if (magic == kMicrosecondMagic || magic == kNanosecondMagic) {
    format.swapped = false;
  } else if (magic == __builtin_bswap32(kMicrosecondMagic) || magic == __builtin_bswap32(kNanosecondMagic)) {
    format.swapped = true;
    magic = __builtin_bswap32(magic);
  } else {
    why = fmt::format("not a classic pcap file (magic {:02x}{:02x}{:02x}{:02x})", file[0], file[1], file[2], file[3]);
    return std::nullopt;
  }
  format.nanoseconds = magic == kNanosecondMagic;
  const std::uint8_t* header = file.data();
  auto load16 = [&](std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, header + at, sizeof(v));
    return format.swapped ? __builtin_bswap16(v) : v;
  };
  const std::uint16_t major = load16(4);
  const std::uint16_t minor = load16(6);
  if (major != 2 || minor != 4) {
    why = fmt::format("pcap version {}.{} (this reader takes 2.4)", major, minor);
    return std::nullopt;
  }
  // Bytes 8..15: thiszone and sigfigs, which libpcap ignores.
  const std::uint32_t snaplen = pcap_detail::load32(header + 16, format.swapped);
  const std::uint32_t linktype = pcap_detail::load32(header + 20, format.swapped);
  if ((linktype & 0xffff0000u) != 0) {
    why = fmt::format("link type field 0x{:08x} has FCS or reserved bits", linktype);
    return std::nullopt;
  }
  format.linktype = static_cast<int>(linktype);
  format.dlt = linktype == kLinktypeRaw ? kDltRaw : format.linktype;
  const std::optional<LinkType> link_type = link_type_from_dlt(format.dlt);
  if (!link_type) {
    why = fmt::format("link type {} is not one the decoder reads", linktype);
    return std::nullopt;
  }
  format.link_type = *link_type;
  format.snapshot = snaplen == 0 || snaplen > 0x7fffffffu ? kPcapMaximumSnaplen : snaplen;
  return format;
}

std::string describe_pcap_record_error(PcapRecordStatus status, const PcapFileFormat& format,
                                       const PcapRecord& record, std::size_t bytes_left) {
  switch (status) {
    case PcapRecordStatus::kTruncatedHeader:
      return fmt::format("truncated dump file; tried to read {} header bytes, only got {}", kPcapRecordHeaderSize,
                         bytes_left);
    case PcapRecordStatus::kTruncatedData: {
      // libpcap reads a record longer than the snapshot as the snapshot's
      // bytes, then the rest to discard, and names what the failing read wanted.
      const std::size_t got = bytes_left - kPcapRecordHeaderSize;
      const std::uint32_t wanted = got < format.snapshot ? std::min(record.stored_length, format.snapshot)
                                                         : record.stored_length;
      return fmt::format("truncated dump file; tried to read {} captured bytes, only got {}", wanted, got);
    }
    case PcapRecordStatus::kCaplenTooLarge:
      if (record.stored_length > format.snapshot) {
        return fmt::format("invalid packet capture length {}, bigger than snaplen of {}", record.stored_length,
                           format.snapshot);
      }
      return fmt::format("invalid packet capture length {}, bigger than maximum of {}", record.stored_length,
                         kPcapMaximumSnaplen);
    case PcapRecordStatus::kRecord:
    case PcapRecordStatus::kEnd: break;
  }
  return "no error";
}

}  // namespace ipattrib::agent
