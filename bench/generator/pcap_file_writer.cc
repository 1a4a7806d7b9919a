#include "bench/generator/pcap_file_writer.h"

#include <cerrno>
#include <cstring>

namespace ipattrib::bench {
namespace {

constexpr std::size_t kBufferSize = 8u << 20;
constexpr std::size_t kRecordHeaderLength = 16;
constexpr std::uint32_t kLinkTypeEthernet = 1;

void put_u32_le(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

}  // namespace

PcapFileWriter::~PcapFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status PcapFileWriter::open(const std::string& path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return Status::error("cannot create " + path + ": " + std::strerror(errno));
  buffer_.resize(kBufferSize);
  // Little-endian regardless of the host, so captures are byte-identical everywhere.
  std::uint8_t* h = buffer_.data();
  put_u32_le(h, 0xa1b2c3d4);
  h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0;  // version 2.4
  put_u32_le(h + 8, 0);                    // thiszone
  put_u32_le(h + 12, 0);                   // sigfigs
  put_u32_le(h + 16, kMaxFrameLength);     // snaplen
  put_u32_le(h + 20, kLinkTypeEthernet);
  used_ = 24;
  return Status::ok();
}

std::uint8_t* PcapFileWriter::frame_space() {
  if (buffer_.size() - used_ < kRecordHeaderLength + kMaxFrameLength) flush();
  return buffer_.data() + used_ + kRecordHeaderLength;
}

void PcapFileWriter::commit_frame(std::int64_t ts_us, std::size_t length) {
  std::uint8_t* h = buffer_.data() + used_;
  put_u32_le(h, static_cast<std::uint32_t>(ts_us / 1000000));
  put_u32_le(h + 4, static_cast<std::uint32_t>(ts_us % 1000000));
  put_u32_le(h + 8, static_cast<std::uint32_t>(length));
  put_u32_le(h + 12, static_cast<std::uint32_t>(length));
  used_ += kRecordHeaderLength + length;
  ++packets_;
  bytes_ += length;
}

void PcapFileWriter::flush() {
  if (file_ == nullptr || used_ == 0) return;
  if (std::fwrite(buffer_.data(), 1, used_, file_) != used_) write_failed_ = true;
  used_ = 0;
}

Status PcapFileWriter::close() {
  if (file_ == nullptr) return Status::error("pcap file not open");
  flush();
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (write_failed_ || close_failed) return Status::error("write error on pcap file");
  return Status::ok();
}

}  // namespace ipattrib::bench
