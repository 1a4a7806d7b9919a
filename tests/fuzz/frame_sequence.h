// FrameSequence: the input format of the fuzz_packet_path target, shared by
// the target (reading) and its seed writer (writing) so the two cannot drift.
//
//   byte 0       selector: bits 0-2 the LinkType (enum order), bit 3 the
//                roomy flow bounds instead of the tight ones, bit 4 frames
//                handed over in bursts (PacketPipeline::process_burst) of
//                2 * bits 5-7 + 1 frames instead of one by one
//   then records [length: 2 bytes big-endian][meta: 1 byte][length bytes]
//                meta bits 0-6: packet time advance in kTimeStepUs units
//                before this frame; bit 7: the frame was cut by the snaplen
//                (wire length larger than the captured bytes)
//
// A record whose length runs past the end of the input is cut to what is
// left, so every input is a valid sequence (libFuzzer mutations stay useful).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ipattrib::fuzz {

inline constexpr std::int64_t kTimeStepUs = 20000;  // 127 steps: ~2.5 s, beyond the tight idle timeout
inline constexpr std::uint8_t kMaxTimeSteps = 0x7f;
inline constexpr std::uint8_t kSnapCutFlag = 0x80;
inline constexpr std::uint8_t kRoomyBoundsFlag = 0x08;
inline constexpr std::uint8_t kBurstFlag = 0x10;
// Frames per process_burst call in burst mode: 1, 3, ..., 15.
inline constexpr std::size_t burst_feed(std::uint8_t selector) { return 2u * (selector >> 5) + 1u; }
inline constexpr std::size_t kMaxRecordBytes = 0xffff;

struct FrameRecord {
  std::span<const std::uint8_t> bytes;
  std::uint8_t time_steps = 0;
  bool snap_cut = false;
};

class FrameSequenceReader {
 public:
  explicit FrameSequenceReader(std::span<const std::uint8_t> records) : rest_(records) {}

  // False at the end of the input.
  bool next(FrameRecord& record) {
    if (rest_.size() < 3) return false;
    const std::size_t length = (std::size_t{rest_[0]} << 8) | rest_[1];
    record.time_steps = rest_[2] & kMaxTimeSteps;
    record.snap_cut = (rest_[2] & kSnapCutFlag) != 0;
    rest_ = rest_.subspan(3);
    record.bytes = rest_.first(length < rest_.size() ? length : rest_.size());
    rest_ = rest_.subspan(record.bytes.size());
    return true;
  }

 private:
  std::span<const std::uint8_t> rest_;
};

// Appends one record; frames longer than kMaxRecordBytes are cut and flagged.
inline void append_frame_record(std::string& out, std::span<const std::uint8_t> frame, std::uint8_t time_steps,
                                bool snap_cut) {
  if (frame.size() > kMaxRecordBytes) {
    frame = frame.first(kMaxRecordBytes);
    snap_cut = true;
  }
  out += static_cast<char>(frame.size() >> 8);
  out += static_cast<char>(frame.size() & 0xff);
  const std::uint8_t steps = time_steps < kMaxTimeSteps ? time_steps : kMaxTimeSteps;
  out += static_cast<char>(steps | (snap_cut ? kSnapCutFlag : 0));
  out.append(reinterpret_cast<const char*>(frame.data()), frame.size());
}

}  // namespace ipattrib::fuzz
