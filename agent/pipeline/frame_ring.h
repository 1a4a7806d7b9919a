// FrameRing: the single-producer single-consumer ring that carries copied
// frames from the capture thread to one worker. Frames are packed back to back
// (a 16-byte header, then the bytes, padded to 16) in one preallocated buffer,
// so a 60-byte ACK and a 64 KiB GRO segment each take only their own size and
// nothing is allocated per frame. The producer makes what it pushed visible
// with one release store per burst (publish()); the consumer frees space with
// one store per consume_burst() call. The two indices sit on separate cache lines,
// and each side keeps a private copy of the other's index so the shared lines
// are touched once per burst, not per frame.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent {

class FrameRing {
 public:
  // capacity_bytes is rounded up to a power of two (at least 4 KiB).
  explicit FrameRing(std::size_t capacity_bytes);
  FrameRing(const FrameRing&) = delete;
  FrameRing& operator=(const FrameRing&) = delete;

  std::size_t capacity() const { return capacity_; }
  // Frames longer than this are cut to it when pushed (push() says so); it is
  // half the ring, so a frame always fits once the ring has drained.
  std::size_t max_frame_bytes() const { return capacity_ / 2 - kHeaderBytes; }

  // Producer (one thread). Copies the frame in; false when there is no room
  // (nothing written). `truncated` is set when the frame was cut to
  // max_frame_bytes(). Invisible to the consumer until publish().
  bool push(const RawFrame& frame, bool& truncated);
  void publish() { head_.store(write_, std::memory_order_release); }

  // Consumer (one thread): fills `frames` with up to frames.size() published frames, in
  // push order, and calls fn(std::span<const RawFrame>) once with them (not
  // at all when none is published); their bytes stay valid during that call
  // only. Returns how many frames it handed over.
  template <class Fn>
  std::size_t consume_burst(std::span<RawFrame> frames, Fn&& fn);

  // Consumer side: nothing published is left to consume.
  bool drained() const { return read_ == head_.load(std::memory_order_acquire); }

 private:
  struct Header {
    std::uint32_t caplen;  // kWrapMarker: the rest of the buffer is unused, continue at 0
    std::uint32_t wire_length;
    std::int64_t ts_us;
  };
  static constexpr std::size_t kHeaderBytes = sizeof(Header);
  static constexpr std::uint32_t kWrapMarker = 0xFFFFFFFFu;
  static_assert(kHeaderBytes == 16);

  static std::size_t record_bytes(std::size_t caplen) { return (kHeaderBytes + caplen + 15) & ~std::size_t{15}; }

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<std::uint8_t[]> buffer_;

  // Shared, one cache line each: written by one side, read by the other.
  alignas(64) std::atomic<std::uint64_t> head_{0};  // bytes published by the producer
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // bytes released by the consumer
  // Producer's own.
  alignas(64) std::uint64_t write_ = 0;
  std::uint64_t cached_tail_ = 0;
  // Consumer's own.
  alignas(64) std::uint64_t read_ = 0;
  std::uint64_t cached_head_ = 0;
};

template <class Fn>
std::size_t FrameRing::consume_burst(std::span<RawFrame> frames, Fn&& fn) {
  if (read_ == cached_head_) {
    cached_head_ = head_.load(std::memory_order_acquire);
    if (read_ == cached_head_) return 0;
  }
  std::size_t handed = 0;
  // Nothing is released before fn has run: every frame's bytes stay put.
  std::uint64_t read = read_;
  while (read != cached_head_ && handed < frames.size()) {
    const std::size_t pos = static_cast<std::size_t>(read & mask_);
    Header header;
    std::memcpy(&header, buffer_.get() + pos, kHeaderBytes);
    if (header.caplen == kWrapMarker) {
      read += capacity_ - pos;
      continue;
    }
    RawFrame& frame = frames[handed++];
    frame.ts_us = header.ts_us;
    frame.wire_length = header.wire_length;
    frame.data = {buffer_.get() + pos + kHeaderBytes, header.caplen};
    read += record_bytes(header.caplen);
  }
  if (handed > 0) fn(std::span<const RawFrame>(frames.data(), handed));
  read_ = read;
  tail_.store(read_, std::memory_order_release);
  return handed;
}

}  // namespace ipattrib::agent
