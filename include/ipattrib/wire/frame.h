// Frames of the agent <-> collector protocol (docs/protocol.md): an 8-byte
// header {u32 body length (big-endian), u8 version, u8 type, u16 flags} and a
// body. encode_frame() writes one; FrameReader cuts frames out of a byte
// stream as it arrives from a socket, checking the header before it buffers a
// single body byte, so a hostile peer cannot make it allocate more than one
// frame of at most WireLimits::max_frame_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ipattrib/status.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::wire {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 8;

enum class FrameType : std::uint8_t {
  kHello = 1,     // agent -> collector, first frame
  kHelloAck = 2,  // collector -> agent, answer to HELLO
  kBatch = 3,     // agent -> collector, sequenced records
  kAck = 4,       // collector -> agent, batch durably committed
  kError = 5,     // either way, then close
};
bool is_known_frame_type(std::uint8_t type);
std::string_view frame_type_name(FrameType type);

// Codes carried by an ERROR frame; also what FrameReader reports so the
// receiving side knows which ERROR to send before closing.
enum class WireErrorCode : std::uint16_t {
  kNone = 0,
  kMalformedFrame = 1,         // header or body does not parse
  kUnsupportedVersion = 2,     // version byte is not one this peer speaks
  kUnknownFrameType = 3,
  kFrameTooLarge = 4,          // body length above the receiver's limit
  kUnexpectedFrame = 5,        // valid frame, wrong moment (e.g. BATCH before HELLO)
  kBadBatch = 6,               // BATCH body or its records do not decode
  kSequenceNotIncreasing = 7,  // BATCH sequence not above the previous one on this connection
  kNotAuthorized = 8,          // agent id does not match the peer's certificate
  kInternal = 9,               // receiver failed (e.g. store unavailable); retry later
  kShuttingDown = 10,
};
std::string_view wire_error_code_name(WireErrorCode code);

struct Frame {
  std::uint8_t version = kProtocolVersion;
  FrameType type = FrameType::kError;
  std::uint16_t flags = 0;
  std::vector<std::uint8_t> body;
};

// Appends header + body to out. Fails (out untouched) when the body exceeds
// limits.max_frame_bytes.
Status encode_frame(FrameType type, std::span<const std::uint8_t> body, std::vector<std::uint8_t>& out,
                    const WireLimits& limits = WireLimits());

class FrameReader {
 public:
  enum class Result { kNeedMore, kFrame, kError };

  explicit FrameReader(const WireLimits& limits = WireLimits()) : limits_(limits) {}

  // Takes bytes up to the end of the frame being read and returns how many it
  // took; it takes nothing while a complete frame waits for next(), which is
  // what bounds the buffer. Call next() after each feed and feed the rest.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  // kFrame: a frame was moved into `frame` (its old body buffer is reused).
  // kError: the stream is bad; error()/error_code() say why, and every later
  // call returns kError too — send ERROR and close.
  Result next(Frame& frame);

  const Status& error() const { return error_; }
  WireErrorCode error_code() const { return error_code_; }
  // Bytes held for the frame in progress (header and body so far).
  std::size_t buffered_bytes() const { return header_filled_ + body_.size(); }

 private:
  void check_header();
  void fail(WireErrorCode code, Status status);

  WireLimits limits_;
  std::uint8_t header_[kFrameHeaderBytes] = {};
  std::size_t header_filled_ = 0;
  bool header_checked_ = false;
  std::uint32_t body_length_ = 0;
  std::vector<std::uint8_t> body_;
  Status error_;
  WireErrorCode error_code_ = WireErrorCode::kNone;
};

}  // namespace ipattrib::wire
