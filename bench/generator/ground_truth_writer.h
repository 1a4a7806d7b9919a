// GroundTruthWriter: the TSV of every generated request, what a correct agent
// must report for the capture (one row per request, in capture order).
// Columns: ts_us client_ip peer_ip peer_port server_ip server_port method host
// target account principal class ("-" for no account / principal).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ipattrib/status.h"

namespace ipattrib::bench {

class GroundTruthWriter {
 public:
  GroundTruthWriter() = default;
  ~GroundTruthWriter();
  GroundTruthWriter(const GroundTruthWriter&) = delete;
  GroundTruthWriter& operator=(const GroundTruthWriter&) = delete;

  // With an empty path rows are counted but not written.
  Status open(const std::string& path);
  // `columns_after_ts`: the row from client_ip on, tab-separated, no newline.
  void write(std::int64_t ts_us, std::string_view columns_after_ts);
  Status close();

  std::uint64_t rows() const { return rows_; }

 private:
  void flush();

  std::FILE* file_ = nullptr;
  std::string buffer_;
  bool write_failed_ = false;
  std::uint64_t rows_ = 0;
};

}  // namespace ipattrib::bench
