#include "agent/pipeline/frame_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

namespace ipattrib::agent {
namespace {

// A frame whose bytes all say which one it is: n % 251, length from n.
std::vector<std::uint8_t> frame_bytes(std::uint64_t n, std::size_t length) {
  std::vector<std::uint8_t> bytes(length, static_cast<std::uint8_t>(n % 251));
  if (length >= 8) std::memcpy(bytes.data(), &n, 8);
  return bytes;
}

bool push(FrameRing& ring, std::uint64_t n, std::size_t length) {
  const std::vector<std::uint8_t> bytes = frame_bytes(n, length);
  RawFrame frame;
  frame.ts_us = static_cast<std::int64_t>(n) * 10;
  frame.wire_length = static_cast<std::uint32_t>(length + 7);
  frame.data = bytes;
  bool truncated = false;
  const bool pushed = ring.push(frame, truncated);
  EXPECT_FALSE(truncated);
  return pushed;
}

// Checks one consumed frame is frame n of `length` bytes, intact.
void expect_frame(const RawFrame& frame, std::uint64_t n, std::size_t length) {
  ASSERT_EQ(frame.data.size(), length);
  EXPECT_EQ(frame.ts_us, static_cast<std::int64_t>(n) * 10);
  EXPECT_EQ(frame.wire_length, length + 7);
  const std::vector<std::uint8_t> want = frame_bytes(n, length);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), frame.data.begin())) << "frame " << n;
}

// Hands up to max_frames published frames to fn(const RawFrame&) one by one,
// through one consume_burst call.
template <class Fn>
std::size_t consume(FrameRing& ring, std::size_t max_frames, Fn&& fn) {
  std::vector<RawFrame> frames(max_frames);
  return ring.consume_burst(frames, [&](std::span<const RawFrame> burst) {
    for (const RawFrame& f : burst) fn(f);
  });
}

TEST(FrameRingTest, NothingIsVisibleBeforePublish) {
  FrameRing ring(4096);
  ASSERT_TRUE(push(ring, 1, 100));
  EXPECT_EQ(consume(ring, 10, [](const RawFrame&) {}), 0u);
  ring.publish();
  std::size_t seen = 0;
  EXPECT_EQ(consume(ring, 10, [&](const RawFrame& f) { expect_frame(f, 1, 100), ++seen; }), 1u);
  EXPECT_EQ(seen, 1u);
  EXPECT_TRUE(ring.drained());
}

TEST(FrameRingTest, FullRingRefusesUntilTheConsumerFreesSpace) {
  FrameRing ring(4096);  // 4096 bytes: 16 records of 16 + 240 bytes
  std::uint64_t pushed = 0;
  while (push(ring, pushed, 240)) ++pushed;
  EXPECT_EQ(pushed, 16u);
  EXPECT_FALSE(push(ring, 99, 1)) << "a full ring takes nothing, however small";
  ring.publish();
  std::uint64_t next = 0;
  EXPECT_EQ(consume(ring, 4, [&](const RawFrame& f) { expect_frame(f, next, 240), ++next; }), 4u);
  EXPECT_TRUE(push(ring, pushed, 240));
  ring.publish();
  ++pushed;
  while (consume(ring, 100, [&](const RawFrame& f) { expect_frame(f, next, 240), ++next; }) > 0) {
  }
  EXPECT_EQ(next, pushed);
}

TEST(FrameRingTest, WrapsAroundWithFramesOfEverySize) {
  FrameRing ring(8192);
  std::uint64_t produced = 0, consumed = 0;
  auto length_of = [](std::uint64_t n) { return static_cast<std::size_t>((n * 37) % 1500); };
  // Many times around the ring, with the free space ending at every offset.
  for (int round = 0; round < 2000; ++round) {
    while (push(ring, produced, length_of(produced))) ++produced;
    ring.publish();
    consume(ring, 3, [&](const RawFrame& f) { expect_frame(f, consumed, length_of(consumed)), ++consumed; });
  }
  while (consume(ring, 64, [&](const RawFrame& f) { expect_frame(f, consumed, length_of(consumed)), ++consumed; }) > 0) {
  }
  EXPECT_EQ(consumed, produced);
  EXPECT_GT(produced, 5000u);
}

// consume_burst: every frame in push order across the wrap, each burst whole
// in one call; the space is released only after it.
TEST(FrameRingTest, ConsumeBurstHandsOverWholeBurstsAndReleasesAfterThem) {
  FrameRing ring(8192);
  std::uint64_t produced = 0, consumed = 0;
  auto length_of = [](std::uint64_t n) { return static_cast<std::size_t>((n * 37) % 1500); };
  std::vector<RawFrame> frames(5);
  std::size_t calls = 0;
  for (int round = 0; round < 2000; ++round) {
    while (push(ring, produced, length_of(produced))) ++produced;
    ring.publish();
    const std::size_t n = ring.consume_burst(frames, [&](std::span<const RawFrame> burst) {
      ++calls;
      EXPECT_LE(burst.size(), frames.size());
      // The ring is full: nothing of this burst is released yet.
      EXPECT_FALSE(push(ring, produced, length_of(produced)));
      for (const RawFrame& f : burst) expect_frame(f, consumed, length_of(consumed)), ++consumed;
    });
    EXPECT_GT(n, 0u);
  }
  while (ring.consume_burst(frames, [&](std::span<const RawFrame> burst) {
    for (const RawFrame& f : burst) expect_frame(f, consumed, length_of(consumed)), ++consumed;
  }) > 0) {
  }
  EXPECT_EQ(consumed, produced);
  EXPECT_EQ(calls, 2000u);
  EXPECT_GT(produced, 5000u);
  EXPECT_EQ(ring.consume_burst(frames, [](std::span<const RawFrame>) { ADD_FAILURE() << "called when empty"; }), 0u);
}

TEST(FrameRingTest, OversizedFramesAreCutToHalfTheRing) {
  FrameRing ring(4096);
  const std::vector<std::uint8_t> big(5000, 0xAB);
  RawFrame frame;
  frame.data = big;
  frame.wire_length = 5000;
  bool truncated = false;
  ASSERT_TRUE(ring.push(frame, truncated));
  EXPECT_TRUE(truncated);
  ring.publish();
  consume(ring, 1, [&](const RawFrame& f) {
    EXPECT_EQ(f.data.size(), ring.max_frame_bytes());
    EXPECT_EQ(f.wire_length, 5000u);
  });
}

// Producer and consumer on two threads (run under TSan too): every frame
// arrives once, in order, intact, across many wraps.
TEST(FrameRingTest, ConcurrentProducerAndConsumerLoseNothing) {
  FrameRing ring(16384);
  constexpr std::uint64_t kFrames = 200000;
  auto length_of = [](std::uint64_t n) { return static_cast<std::size_t>(8 + (n * 131) % 700); };
  std::thread producer([&] {
    std::uint64_t n = 0;
    while (n < kFrames) {
      // Bursts: publish once per up to 32 frames, as the capture thread does.
      int burst = 0;
      while (n < kFrames && burst < 32 && push(ring, n, length_of(n))) ++n, ++burst;
      ring.publish();
      if (burst == 0) std::this_thread::yield();
    }
  });
  std::uint64_t next = 0;
  bool intact = true;
  while (next < kFrames) {
    const std::size_t got = consume(ring, 64, [&](const RawFrame& f) {
      std::uint64_t n = 0;
      std::memcpy(&n, f.data.data(), 8);
      const bool tail_ok = f.data.size() == 8 || f.data.back() == static_cast<std::uint8_t>(next % 251);
      intact = intact && n == next && f.data.size() == length_of(next) && tail_ok;
      ++next;
    });
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_TRUE(intact);
  EXPECT_EQ(next, kFrames);
  EXPECT_TRUE(ring.drained());
}

}  // namespace
}  // namespace ipattrib::agent
