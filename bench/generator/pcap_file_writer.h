// PcapFileWriter: writes a classic pcap file (DLT_EN10MB, microsecond
// timestamps) record by record into one large buffer flushed with fwrite, so
// the generator spends its time building packets, not in stdio per packet.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ipattrib/status.h"

namespace ipattrib::bench {

class PcapFileWriter {
 public:
  static constexpr std::size_t kMaxFrameLength = 65535;

  PcapFileWriter() = default;
  ~PcapFileWriter();
  PcapFileWriter(const PcapFileWriter&) = delete;
  PcapFileWriter& operator=(const PcapFileWriter&) = delete;

  Status open(const std::string& path);

  // Space for one frame of at most kMaxFrameLength bytes; the caller writes
  // the frame there and commits it with commit_frame().
  std::uint8_t* frame_space();
  void commit_frame(std::int64_t ts_us, std::size_t length);

  // Flushes and closes; reports the first write error seen.
  Status close();

  std::uint64_t packets() const { return packets_; }
  std::uint64_t bytes() const { return bytes_; }  // frame bytes, without pcap headers

 private:
  void flush();

  std::FILE* file_ = nullptr;
  std::vector<std::uint8_t> buffer_;
  std::size_t used_ = 0;
  bool write_failed_ = false;
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace ipattrib::bench
