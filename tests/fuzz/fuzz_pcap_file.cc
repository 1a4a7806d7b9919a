// Fuzz target: the own pcap reader's parser (agent/capture/
// pcap_file_format.h) on arbitrary file bytes, differentially against
// libpcap reading the same bytes through fmemopen: when the parser takes the
// header, libpcap must open the file with the same link type, and record by
// record both must give the same timestamp, lengths and bytes, end at the
// same record, and fail at the same record with the same words. Besides
// that, every view the parser returns lies inside the input.
#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "agent/capture/pcap_file_format.h"
#include "agent/capture/pcap_link_type.h"

namespace {

using namespace ipattrib::agent;

// Names the broken expectation before aborting, so a crash says which one.
#define require(condition)                                                    \
  do {                                                                        \
    if (!(condition)) {                                                       \
      std::fprintf(stderr, "fuzz_pcap_file: %s is false (line %d)\n", #condition, __LINE__); \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

struct PcapCloser {
  pcap_t* p;
  ~PcapCloser() { pcap_close(p); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> file(data, size);
  std::string why;
  const std::optional<PcapFileFormat> format = parse_pcap_file_header(file, why);
  if (!format) {
    require(!why.empty());
    return 0;
  }
  require(format->snapshot > 0 && format->snapshot <= 0x7fffffffu);

  // fmemopen needs a writable buffer; libpcap owns the FILE from here.
  std::string copy(reinterpret_cast<const char*>(data), size);
  std::FILE* stream = fmemopen(copy.data(), copy.size(), "rb");
  require(stream != nullptr);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (pcap == nullptr) std::fclose(stream);
  require(pcap != nullptr);
  PcapCloser closer{pcap};
  require(link_type_from_dlt(pcap_datalink(pcap)) == format->link_type);

  std::size_t offset = kPcapFileHeaderSize;
  for (;;) {
    PcapRecord record;
    const PcapRecordStatus status = parse_pcap_record(*format, file, offset, record);
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* bytes = nullptr;
    const int rc = pcap_next_ex(pcap, &header, &bytes);
    if (status == PcapRecordStatus::kEnd) {
      require(rc == PCAP_ERROR_BREAK);
      return 0;
    }
    if (status != PcapRecordStatus::kRecord) {
      require(rc == PCAP_ERROR);
      require(describe_pcap_record_error(status, *format, record, size - offset) == pcap_geterr(pcap));
      return 0;
    }
    require(rc == 1);
    require(record.data >= data && record.data + record.caplen <= data + size);
    require(record.next_offset > offset && record.next_offset <= size);
    require(record.caplen <= format->snapshot);
    require(record.ts_us == std::int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec);
    require(record.caplen == header->caplen && record.wire_length == header->len);
    require(std::memcmp(record.data, bytes, record.caplen) == 0);
    offset = record.next_offset;
  }
}
