// Primitive encodings of the wire format (internal to the wire library):
// unsigned LEB128 varints (canonical: no overlong forms), zigzag for signed
// values, length-prefixed byte strings. ByteReader never reads past its span
// and reports the first problem as a Status naming the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipattrib/status.h"

namespace ipattrib::wire {

inline std::uint64_t zigzag_encode(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t zigzag_decode(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16_be(std::uint16_t v);
  void u32_be(std::uint32_t v);
  void varint(std::uint64_t v);
  void svarint(std::int64_t v) { varint(zigzag_encode(v)); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void string(std::string_view s);  // varint length + bytes

 private:
  std::vector<std::uint8_t>& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) : in_(in) {}

  std::size_t remaining() const { return in_.size() - pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::span<const std::uint8_t> rest() const { return in_.subspan(pos_); }
  // The first failure; later reads fail too and keep it.
  const Status& status() const { return status_; }
  bool ok() const { return status_.is_ok(); }

  bool u8(std::uint8_t& v, std::string_view field);
  bool varint(std::uint64_t& v, std::string_view field);
  bool svarint(std::int64_t& v, std::string_view field);
  // A varint that must be <= max.
  bool bounded(std::uint64_t& v, std::uint64_t max, std::string_view field);
  bool bytes(std::size_t n, std::span<const std::uint8_t>& out, std::string_view field);
  bool string(std::string& s, std::size_t max_bytes, std::string_view field);
  // Fails unless every byte was read.
  bool expect_end(std::string_view what);
  bool fail(std::string message);

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  Status status_;
};

}  // namespace ipattrib::wire
