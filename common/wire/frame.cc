#include "ipattrib/wire/frame.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/wire/byte_codec.h"

namespace ipattrib::wire {

bool is_known_frame_type(std::uint8_t type) {
  return type >= static_cast<std::uint8_t>(FrameType::kHello) && type <= static_cast<std::uint8_t>(FrameType::kError);
}

std::string_view frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::kHello: return "HELLO";
    case FrameType::kHelloAck: return "HELLO_ACK";
    case FrameType::kBatch: return "BATCH";
    case FrameType::kAck: return "ACK";
    case FrameType::kError: return "ERROR";
  }
  return "UNKNOWN";
}

std::string_view wire_error_code_name(WireErrorCode code) {
  switch (code) {
    case WireErrorCode::kNone: return "none";
    case WireErrorCode::kMalformedFrame: return "malformed_frame";
    case WireErrorCode::kUnsupportedVersion: return "unsupported_version";
    case WireErrorCode::kUnknownFrameType: return "unknown_frame_type";
    case WireErrorCode::kFrameTooLarge: return "frame_too_large";
    case WireErrorCode::kUnexpectedFrame: return "unexpected_frame";
    case WireErrorCode::kBadBatch: return "bad_batch";
    case WireErrorCode::kSequenceNotIncreasing: return "sequence_not_increasing";
    case WireErrorCode::kNotAuthorized: return "not_authorized";
    case WireErrorCode::kInternal: return "internal";
    case WireErrorCode::kShuttingDown: return "shutting_down";
  }
  return "unknown";
}

Status encode_frame(FrameType type, std::span<const std::uint8_t> body, std::vector<std::uint8_t>& out,
                    const WireLimits& limits) {
  if (body.size() > limits.max_frame_bytes) {
    return Status::error(fmt::format("{} frame body of {} bytes exceeds the frame limit of {} bytes",
                                     frame_type_name(type), body.size(), limits.max_frame_bytes));
  }
  out.reserve(out.size() + kFrameHeaderBytes + body.size());
  ByteWriter writer(out);
  writer.u32_be(static_cast<std::uint32_t>(body.size()));
  writer.u8(kProtocolVersion);
  writer.u8(static_cast<std::uint8_t>(type));
  writer.u16_be(0);
  writer.bytes(body);
  return Status::ok();
}

std::size_t FrameReader::feed(std::span<const std::uint8_t> bytes) {
  if (!error_.is_ok()) return 0;
  std::size_t used = 0;
  if (header_filled_ < kFrameHeaderBytes) {
    const std::size_t n = std::min(bytes.size(), kFrameHeaderBytes - header_filled_);
    std::copy_n(bytes.data(), n, header_ + header_filled_);
    header_filled_ += n;
    used += n;
    if (header_filled_ < kFrameHeaderBytes) return used;
  }
  if (!header_checked_) {
    check_header();
    if (!error_.is_ok()) return used;
  }
  // Grow with the bytes that actually arrived, not with the declared length.
  const std::size_t missing = body_length_ - body_.size();
  const std::size_t n = std::min(bytes.size() - used, missing);
  body_.insert(body_.end(), bytes.data() + used, bytes.data() + used + n);
  return used + n;
}

void FrameReader::check_header() {
  const std::uint32_t length = (std::uint32_t{header_[0]} << 24) | (std::uint32_t{header_[1]} << 16) |
                               (std::uint32_t{header_[2]} << 8) | std::uint32_t{header_[3]};
  const std::uint8_t version = header_[4];
  const std::uint8_t type = header_[5];
  const std::uint16_t flags = static_cast<std::uint16_t>((header_[6] << 8) | header_[7]);
  if (version != kProtocolVersion) {
    return fail(WireErrorCode::kUnsupportedVersion,
                Status::error(fmt::format("unsupported protocol version {} (this peer speaks {})", version,
                                          kProtocolVersion)));
  }
  if (!is_known_frame_type(type)) {
    return fail(WireErrorCode::kUnknownFrameType, Status::error(fmt::format("unknown frame type {}", type)));
  }
  if (flags != 0) {
    return fail(WireErrorCode::kMalformedFrame,
                Status::error(fmt::format("frame flags 0x{:04x} set; version 1 defines none", flags)));
  }
  if (length > limits_.max_frame_bytes) {
    return fail(WireErrorCode::kFrameTooLarge,
                Status::error(fmt::format("frame body of {} bytes exceeds the limit of {} bytes", length,
                                          limits_.max_frame_bytes)));
  }
  body_length_ = length;
  header_checked_ = true;
}

void FrameReader::fail(WireErrorCode code, Status status) {
  error_code_ = code;
  error_ = std::move(status);
  body_.clear();
  body_.shrink_to_fit();
}

FrameReader::Result FrameReader::next(Frame& frame) {
  if (!error_.is_ok()) return Result::kError;
  if (!header_checked_ || body_.size() < body_length_) return Result::kNeedMore;
  frame.version = header_[4];
  frame.type = static_cast<FrameType>(header_[5]);
  frame.flags = 0;
  frame.body.swap(body_);
  body_.clear();
  header_filled_ = 0;
  header_checked_ = false;
  body_length_ = 0;
  return Result::kFrame;
}

}  // namespace ipattrib::wire
