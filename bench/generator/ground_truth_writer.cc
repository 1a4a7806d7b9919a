#include "bench/generator/ground_truth_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ipattrib::bench {
namespace {

constexpr std::size_t kFlushAt = 1u << 20;
constexpr std::string_view kHeaderRow =
    "ts_us\tclient_ip\tpeer_ip\tpeer_port\tserver_ip\tserver_port\tmethod\thost\ttarget\taccount\tprincipal\tclass\n";

}  // namespace

GroundTruthWriter::~GroundTruthWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status GroundTruthWriter::open(const std::string& path) {
  if (path.empty()) return Status::ok();
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return Status::error("cannot create " + path + ": " + std::strerror(errno));
  buffer_.reserve(kFlushAt + 4096);
  buffer_ = kHeaderRow;
  return Status::ok();
}

void GroundTruthWriter::write(std::int64_t ts_us, std::string_view columns_after_ts) {
  ++rows_;
  if (file_ == nullptr) return;
  fmt::format_to(std::back_inserter(buffer_), "{}\t", ts_us);
  buffer_.append(columns_after_ts);
  buffer_ += '\n';
  if (buffer_.size() >= kFlushAt) flush();
}

void GroundTruthWriter::flush() {
  if (file_ == nullptr || buffer_.empty()) return;
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) write_failed_ = true;
  buffer_.clear();
}

Status GroundTruthWriter::close() {
  if (file_ == nullptr) return Status::ok();
  flush();
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (write_failed_ || close_failed) return Status::error("write error on ground truth file");
  return Status::ok();
}

}  // namespace ipattrib::bench
