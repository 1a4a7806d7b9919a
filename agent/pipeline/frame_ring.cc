#include "agent/pipeline/frame_ring.h"

#include <algorithm>
#include <bit>

namespace ipattrib::agent {

FrameRing::FrameRing(std::size_t capacity_bytes)
    : capacity_(std::bit_ceil(std::max<std::size_t>(capacity_bytes, 4096))),
      mask_(capacity_ - 1),
      buffer_(new std::uint8_t[capacity_]) {}

bool FrameRing::push(const RawFrame& frame, bool& truncated) {
  const std::size_t caplen = std::min(frame.data.size(), max_frame_bytes());
  truncated = caplen < frame.data.size();
  const std::size_t size = record_bytes(caplen);
  std::size_t pos = static_cast<std::size_t>(write_ & mask_);
  const std::size_t to_end = capacity_ - pos;  // a multiple of 16, never 0
  const std::size_t needed = size <= to_end ? size : to_end + size;
  if (write_ + needed - cached_tail_ > capacity_) {
    cached_tail_ = tail_.load(std::memory_order_acquire);
    if (write_ + needed - cached_tail_ > capacity_) return false;
  }
  if (size > to_end) {
    const Header wrap{kWrapMarker, 0, 0};
    std::memcpy(buffer_.get() + pos, &wrap, kHeaderBytes);
    write_ += to_end;
    pos = 0;
  }
  const Header header{static_cast<std::uint32_t>(caplen), frame.wire_length, frame.ts_us};
  std::memcpy(buffer_.get() + pos, &header, kHeaderBytes);
  if (caplen > 0) std::memcpy(buffer_.get() + pos + kHeaderBytes, frame.data.data(), caplen);
  write_ += size;
  return true;
}

}  // namespace ipattrib::agent
