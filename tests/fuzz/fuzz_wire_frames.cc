// Fuzz target: the wire codec (ipattrib_wire) on arbitrary bytes. Input byte 0
// picks the mode, byte 1 a parameter:
//   even mode: the rest is a byte stream fed to FrameReader in chunks of
//              (byte 1 % 16) + 1 bytes; every frame's body goes to its decoder;
//   odd mode:  the rest is an uncompressed record payload, compressed here and
//              wrapped in a BATCH claiming byte 1 records, so the record parser
//              is reached without the fuzzer having to forge zstd frames.
// Besides memory safety it checks that whatever decodes re-encodes and decodes
// to the same value, and that the reader never holds more than one frame.
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/wire/byte_codec.h"
#include "ipattrib/wire/batch_codec.h"
#include "ipattrib/wire/control_messages.h"
#include "ipattrib/wire/frame.h"

namespace {

using namespace ipattrib;
using namespace ipattrib::wire;

void require(bool condition) {
  if (!condition) std::abort();
}

WireLimits fuzz_limits() {
  WireLimits limits;
  limits.max_frame_bytes = 1 << 20;
  limits.max_batch_decompressed_bytes = 1 << 20;
  limits.max_records_per_batch = 1000;
  limits.max_accesses_per_batch = 100'000;
  return limits;
}

std::span<const std::uint8_t> body_of(const std::vector<std::uint8_t>& frame) {
  require(frame.size() >= kFrameHeaderBytes);
  return std::span(frame).subspan(kFrameHeaderBytes);
}

void check_batch(std::span<const std::uint8_t> body, const WireLimits& limits) {
  RecordBatch batch;
  if (!decode_batch(body, batch, limits).is_ok()) return;
  std::vector<std::uint8_t> frame;
  require(encode_batch(batch, frame, limits, 1).is_ok());
  RecordBatch again;
  require(decode_batch(body_of(frame), again, limits).is_ok());
  require(again == batch);
}

template <typename Message, typename Decode, typename Encode>
void check_round_trip(std::span<const std::uint8_t> body, Decode decode, Encode encode) {
  Message message;
  if (!decode(body, message).is_ok()) return;
  std::vector<std::uint8_t> frame;
  require(encode(message, frame).is_ok());
  Message again;
  require(decode(body_of(frame), again).is_ok());
  require(again == message);
}

void check_frame(const Frame& frame, const WireLimits& limits) {
  const std::span<const std::uint8_t> body(frame.body);
  switch (frame.type) {
    case FrameType::kHello:
      check_round_trip<Hello>(
          body, [&](auto b, Hello& m) { return decode_hello(b, m, limits); },
          [&](const Hello& m, auto& out) { return encode_hello(m, out, limits); });
      break;
    case FrameType::kHelloAck:
      check_round_trip<HelloAck>(
          body, [&](auto b, HelloAck& m) { return decode_hello_ack(b, m, limits); },
          [&](const HelloAck& m, auto& out) { return encode_hello_ack(m, out, limits); });
      break;
    case FrameType::kAck:
      check_round_trip<Ack>(
          body, [](auto b, Ack& m) { return decode_ack(b, m); },
          [](const Ack& m, auto& out) { return encode_ack(m, out); });
      break;
    case FrameType::kError:
      check_round_trip<WireError>(
          body, [&](auto b, WireError& m) { return decode_error(b, m, limits); },
          [&](const WireError& m, auto& out) { return encode_error(m, out, limits); });
      break;
    case FrameType::kBatch:
      check_batch(body, limits);
      break;
  }
}

void fuzz_stream(std::span<const std::uint8_t> input, std::size_t chunk, const WireLimits& limits) {
  FrameReader reader(limits);
  Frame frame;
  while (true) {
    const std::size_t used = reader.feed(input.first(std::min(chunk, input.size())));
    require(used <= input.size());
    input = input.subspan(used);
    require(reader.buffered_bytes() <= kFrameHeaderBytes + limits.max_frame_bytes);
    const FrameReader::Result result = reader.next(frame);
    if (result == FrameReader::Result::kError) {
      require(!reader.error().is_ok() && reader.error_code() != WireErrorCode::kNone);
      return;
    }
    if (result == FrameReader::Result::kFrame) {
      check_frame(frame, limits);
      continue;
    }
    if (input.empty()) return;
    require(used > 0);  // needing more must mean it took what it was given
  }
}

void fuzz_payload(std::span<const std::uint8_t> payload, std::uint8_t record_count, const WireLimits& limits) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(1);
  w.string("fuzz-agent");
  w.varint(record_count);
  w.varint(payload.size());
  w.u8(1);
  const std::size_t head = body.size();
  body.resize(head + ZSTD_compressBound(payload.size()));
  const std::size_t n = ZSTD_compress(body.data() + head, body.size() - head, payload.data(), payload.size(), 1);
  require(!ZSTD_isError(n));
  body.resize(head + n);
  check_batch(body, limits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const WireLimits limits = fuzz_limits();
  const std::span<const std::uint8_t> rest(data + 2, size - 2);
  if ((data[0] & 1) == 0) {
    fuzz_stream(rest, (data[1] % 16) + 1u, limits);
  } else if (rest.size() <= limits.max_batch_decompressed_bytes) {
    fuzz_payload(rest, data[1], limits);
  }
  return 0;
}
