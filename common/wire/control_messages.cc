#include "ipattrib/wire/control_messages.h"

#include <fmt/format.h>

#include <utility>

#include "common/wire/byte_codec.h"

namespace ipattrib::wire {

namespace {

Status check_string(std::string_view s, std::string_view field, const WireLimits& limits) {
  if (s.size() > limits.max_string_bytes) {
    return Status::error(fmt::format("{} of {} bytes exceeds the string limit of {}", field, s.size(),
                                     limits.max_string_bytes));
  }
  return Status::ok();
}

// Both bounds are 0 (empty spool) or both set and ordered.
bool valid_unacked_range(std::uint64_t lowest, std::uint64_t highest) {
  return (lowest == 0 && highest == 0) || (lowest != 0 && lowest <= highest);
}

// Cuts at most max bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

Status encode_hello(const Hello& hello, std::vector<std::uint8_t>& out_frame, const WireLimits& limits) {
  if (hello.agent_id.empty()) return Status::error("HELLO needs an agent id");
  for (const auto& [value, field] : {std::pair{&hello.agent_id, "agent_id"}, std::pair{&hello.gateway, "gateway"},
                                     std::pair{&hello.software_version, "software_version"}}) {
    if (Status s = check_string(*value, field, limits); !s) return s;
  }
  if (!valid_unacked_range(hello.lowest_unacked_sequence, hello.highest_unacked_sequence)) {
    return Status::error("HELLO unacked sequence range is inconsistent");
  }
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.string(hello.agent_id);
  w.string(hello.gateway);
  w.string(hello.software_version);
  w.varint(hello.lowest_unacked_sequence);
  w.varint(hello.highest_unacked_sequence);
  return encode_frame(FrameType::kHello, body, out_frame, limits);
}

Status decode_hello(std::span<const std::uint8_t> body, Hello& hello, const WireLimits& limits) {
  ByteReader r(body);
  r.string(hello.agent_id, limits.max_string_bytes, "HELLO agent_id");
  r.string(hello.gateway, limits.max_string_bytes, "HELLO gateway");
  r.string(hello.software_version, limits.max_string_bytes, "HELLO software_version");
  r.varint(hello.lowest_unacked_sequence, "HELLO lowest_unacked_sequence");
  r.varint(hello.highest_unacked_sequence, "HELLO highest_unacked_sequence");
  if (!r.expect_end("HELLO")) return r.status();
  if (hello.agent_id.empty()) return Status::error("HELLO has an empty agent id");
  if (!valid_unacked_range(hello.lowest_unacked_sequence, hello.highest_unacked_sequence)) {
    return Status::error(fmt::format("HELLO unacked sequence range {}..{} is inconsistent",
                                     hello.lowest_unacked_sequence, hello.highest_unacked_sequence));
  }
  return Status::ok();
}

Status encode_hello_ack(const HelloAck& ack, std::vector<std::uint8_t>& out_frame, const WireLimits& limits) {
  if (Status s = check_string(ack.software_version, "software_version", limits); !s) return s;
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(ack.highest_committed_sequence);
  w.varint(ack.max_frame_bytes);
  w.string(ack.software_version);
  return encode_frame(FrameType::kHelloAck, body, out_frame, limits);
}

Status decode_hello_ack(std::span<const std::uint8_t> body, HelloAck& ack, const WireLimits& limits) {
  ByteReader r(body);
  std::uint64_t max_frame = 0;
  r.varint(ack.highest_committed_sequence, "HELLO_ACK highest_committed_sequence");
  r.bounded(max_frame, UINT32_MAX, "HELLO_ACK max_frame_bytes");
  r.string(ack.software_version, limits.max_string_bytes, "HELLO_ACK software_version");
  if (!r.expect_end("HELLO_ACK")) return r.status();
  ack.max_frame_bytes = static_cast<std::uint32_t>(max_frame);
  return Status::ok();
}

Status encode_ack(const Ack& ack, std::vector<std::uint8_t>& out_frame) {
  if (ack.sequence == 0) return Status::error("ACK of sequence 0: sequences start at 1");
  std::vector<std::uint8_t> body;
  ByteWriter(body).varint(ack.sequence);
  return encode_frame(FrameType::kAck, body, out_frame);
}

Status decode_ack(std::span<const std::uint8_t> body, Ack& ack) {
  ByteReader r(body);
  r.varint(ack.sequence, "ACK sequence");
  if (!r.expect_end("ACK")) return r.status();
  if (ack.sequence == 0) return Status::error("ACK of sequence 0: sequences start at 1");
  return Status::ok();
}

Status encode_error(const WireError& error, std::vector<std::uint8_t>& out_frame, const WireLimits& limits) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(static_cast<std::uint16_t>(error.code));
  w.string(utf8_prefix(error.message, limits.max_string_bytes));
  return encode_frame(FrameType::kError, body, out_frame, limits);
}

Status decode_error(std::span<const std::uint8_t> body, WireError& error, const WireLimits& limits) {
  ByteReader r(body);
  std::uint64_t code = 0;
  // Codes this build does not know are kept as numbers: any ERROR is fatal.
  r.bounded(code, UINT16_MAX, "ERROR code");
  r.string(error.message, limits.max_string_bytes, "ERROR message");
  if (!r.expect_end("ERROR")) return r.status();
  error.code = static_cast<WireErrorCode>(code);
  return Status::ok();
}

}  // namespace ipattrib::wire
