#include "ipattrib/wire/batch_codec.h"

#include <fmt/format.h>
#include <zstd.h>

#include <memory>

#include "common/wire/byte_codec.h"
#include "common/wire/record_payload.h"
#include "ipattrib/wire/frame.h"

namespace ipattrib::wire {

namespace {

constexpr std::uint8_t kCodecZstd = 1;

struct ZstdDctxFree {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

Status read_header(ByteReader& r, BatchHeader& header, const WireLimits& limits) {
  std::uint64_t record_count = 0;
  std::uint64_t payload_bytes = 0;
  std::uint8_t codec = 0;
  r.varint(header.sequence, "BATCH sequence");
  r.string(header.agent_id, limits.max_string_bytes, "BATCH agent_id");
  r.bounded(record_count, limits.max_records_per_batch, "BATCH record_count");
  r.bounded(payload_bytes, limits.max_batch_decompressed_bytes, "BATCH payload_bytes");
  r.u8(codec, "BATCH codec");
  if (!r.ok()) return r.status();
  if (header.sequence == 0) return Status::error("BATCH sequence 0: sequences start at 1");
  if (header.agent_id.empty()) return Status::error("BATCH has an empty agent id");
  if (codec != kCodecZstd) return Status::error(fmt::format("BATCH codec {} unknown (1 = zstd)", codec));
  header.record_count = static_cast<std::uint32_t>(record_count);
  header.payload_bytes = static_cast<std::uint32_t>(payload_bytes);
  return Status::ok();
}

// Decompresses exactly one zstd frame whose declared content size must equal
// the BATCH's payload_bytes (already checked against the limit), so the
// output buffer is sized from a bounded value and zstd cannot write past it.
Status decompress(std::span<const std::uint8_t> compressed, std::uint32_t payload_bytes,
                  std::vector<std::uint8_t>& payload) {
  const std::size_t frame_size = ZSTD_findFrameCompressedSize(compressed.data(), compressed.size());
  if (ZSTD_isError(frame_size)) {
    return Status::error(fmt::format("BATCH zstd frame is malformed: {}", ZSTD_getErrorName(frame_size)));
  }
  if (frame_size != compressed.size()) {
    return Status::error(fmt::format("{} bytes follow the BATCH zstd frame", compressed.size() - frame_size));
  }
  const unsigned long long content_size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (content_size == ZSTD_CONTENTSIZE_UNKNOWN || content_size == ZSTD_CONTENTSIZE_ERROR) {
    return Status::error("BATCH zstd frame does not declare its content size");
  }
  if (content_size != payload_bytes) {
    return Status::error(fmt::format("BATCH zstd frame declares {} bytes but payload_bytes is {}", content_size,
                                     payload_bytes));
  }
  std::unique_ptr<ZSTD_DCtx, ZstdDctxFree> ctx(ZSTD_createDCtx());
  if (!ctx) return Status::error("cannot create a zstd decompression context");
  payload.resize(payload_bytes);
  const std::size_t n = ZSTD_decompressDCtx(ctx.get(), payload.data(), payload.size(), compressed.data(),
                                            compressed.size());
  if (ZSTD_isError(n)) return Status::error(fmt::format("BATCH zstd data is corrupt: {}", ZSTD_getErrorName(n)));
  if (n != payload_bytes) {
    return Status::error(fmt::format("BATCH decompressed to {} bytes, expected {}", n, payload_bytes));
  }
  return Status::ok();
}

}  // namespace

Status encode_batch(const RecordBatch& batch, std::vector<std::uint8_t>& out_frame, const WireLimits& limits,
                    int zstd_level) {
  if (batch.sequence == 0) return Status::error("batch sequence 0: sequences start at 1");
  if (batch.agent_id.empty()) return Status::error("batch has an empty agent id");
  if (batch.agent_id.size() > limits.max_string_bytes) return Status::error("batch agent id exceeds the string limit");
  std::vector<std::uint8_t> payload;
  if (Status s = encode_record_payload(batch.records, payload, limits); !s) return s;
  if (payload.size() > limits.max_batch_decompressed_bytes) {
    return Status::error(fmt::format("batch payload of {} bytes exceeds the limit of {}", payload.size(),
                                     limits.max_batch_decompressed_bytes));
  }
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.varint(batch.sequence);
  w.string(batch.agent_id);
  w.varint(batch.records.size());
  w.varint(payload.size());
  w.u8(kCodecZstd);
  const std::size_t head = body.size();
  body.resize(head + ZSTD_compressBound(payload.size()));
  // ZSTD_compress writes the content size into the frame header, which the
  // decoder requires.
  const std::size_t n = ZSTD_compress(body.data() + head, body.size() - head, payload.data(), payload.size(),
                                      zstd_level);
  if (ZSTD_isError(n)) return Status::error(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  body.resize(head + n);
  return encode_frame(FrameType::kBatch, body, out_frame, limits);
}

Status peek_batch_header(std::span<const std::uint8_t> body, BatchHeader& header, const WireLimits& limits) {
  ByteReader r(body);
  return read_header(r, header, limits);
}

Status decode_batch(std::span<const std::uint8_t> body, RecordBatch& batch, const WireLimits& limits) {
  ByteReader r(body);
  BatchHeader header;
  if (Status s = read_header(r, header, limits); !s) return s;
  std::vector<std::uint8_t> payload;
  if (Status s = decompress(r.rest(), header.payload_bytes, payload); !s) return s;
  if (Status s = decode_record_payload(payload, header.record_count, batch.records, limits); !s) {
    return Status::error("BATCH " + std::to_string(header.sequence) + ": " + s.message());
  }
  batch.agent_id = std::move(header.agent_id);
  batch.sequence = header.sequence;
  return Status::ok();
}

}  // namespace ipattrib::wire
