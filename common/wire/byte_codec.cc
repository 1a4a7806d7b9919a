#include "common/wire/byte_codec.h"

#include <fmt/format.h>

namespace ipattrib::wire {

void ByteWriter::u16_be(std::uint16_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::u32_be(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

void ByteWriter::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void ByteWriter::string(std::string_view s) {
  varint(s.size());
  out_.insert(out_.end(), s.begin(), s.end());
}

bool ByteReader::fail(std::string message) {
  if (status_.is_ok()) status_ = Status::error(std::move(message));
  pos_ = in_.size();
  return false;
}

bool ByteReader::u8(std::uint8_t& v, std::string_view field) {
  if (!ok()) return false;
  if (remaining() < 1) return fail(fmt::format("truncated at {} (offset {})", field, pos_));
  v = in_[pos_++];
  return true;
}

bool ByteReader::varint(std::uint64_t& v, std::string_view field) {
  if (!ok()) return false;
  const std::size_t start = pos_;
  std::uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= in_.size()) return fail(fmt::format("truncated varint at {} (offset {})", field, start));
    const std::uint8_t byte = in_[pos_++];
    // The tenth byte holds only bit 63.
    if (i == 9 && byte > 1) return fail(fmt::format("varint overflows 64 bits at {} (offset {})", field, start));
    result |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      // Canonical form only, so every value has exactly one encoding.
      if (i > 0 && byte == 0) return fail(fmt::format("overlong varint at {} (offset {})", field, start));
      v = result;
      return true;
    }
  }
  return fail(fmt::format("varint longer than 10 bytes at {} (offset {})", field, start));
}

bool ByteReader::svarint(std::int64_t& v, std::string_view field) {
  std::uint64_t raw = 0;
  if (!varint(raw, field)) return false;
  v = zigzag_decode(raw);
  return true;
}

bool ByteReader::bounded(std::uint64_t& v, std::uint64_t max, std::string_view field) {
  if (!varint(v, field)) return false;
  if (v > max) return fail(fmt::format("{} is {}, above the limit {}", field, v, max));
  return true;
}

bool ByteReader::bytes(std::size_t n, std::span<const std::uint8_t>& out, std::string_view field) {
  if (!ok()) return false;
  if (n > remaining()) {
    return fail(fmt::format("{} needs {} bytes but only {} remain (offset {})", field, n, remaining(), pos_));
  }
  out = in_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::string(std::string& s, std::size_t max_bytes, std::string_view field) {
  std::uint64_t length = 0;
  if (!bounded(length, max_bytes, field)) return false;
  std::span<const std::uint8_t> raw;
  if (!bytes(static_cast<std::size_t>(length), raw, field)) return false;
  s.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
  return true;
}

bool ByteReader::expect_end(std::string_view what) {
  if (!ok()) return false;
  if (!at_end()) return fail(fmt::format("{} trailing bytes after {}", remaining(), what));
  return true;
}

}  // namespace ipattrib::wire
