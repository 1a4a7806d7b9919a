#include "agent/ship/spool_record.h"

#include <gtest/gtest.h>

#include <vector>

namespace ipattrib::agent {
namespace {

std::vector<std::uint8_t> record_bytes(const SpoolRecordHeader& header, const std::vector<std::uint8_t>& frame) {
  const auto head = encode_spool_header(header, frame);
  std::vector<std::uint8_t> bytes(head.begin(), head.end());
  bytes.insert(bytes.end(), frame.begin(), frame.end());
  return bytes;
}

TEST(SpoolRecordTest, RoundTrip) {
  const std::vector<std::uint8_t> frame = {1, 2, 3, 4, 5};
  const auto bytes = record_bytes({77, 12345, 5}, frame);
  SpoolRecordHeader header;
  ASSERT_EQ(check_spool_record(bytes, header), SpoolRecordCheck::kOk);
  EXPECT_EQ(header.sequence, 77u);
  EXPECT_EQ(header.access_count, 12345u);
  EXPECT_EQ(header.frame_bytes, 5u);
}

TEST(SpoolRecordTest, EveryTruncationIsTorn) {
  const std::vector<std::uint8_t> frame(40, 0xAB);
  const auto bytes = record_bytes({1, 2, 40}, frame);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    SpoolRecordHeader header;
    EXPECT_EQ(check_spool_record(std::span(bytes).first(n), header), SpoolRecordCheck::kTorn) << n;
  }
}

TEST(SpoolRecordTest, EveryFlippedByteIsCorrupt) {
  const std::vector<std::uint8_t> frame(40, 0xAB);
  const auto good = record_bytes({1, 2, 40}, frame);
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bytes = good;
    bytes[i] ^= 0x10;
    SpoolRecordHeader header;
    const SpoolRecordCheck check = check_spool_record(bytes, header);
    // A flipped length may look like a shorter or longer record; never intact.
    EXPECT_NE(check, SpoolRecordCheck::kOk) << "byte " << i;
  }
}

TEST(SpoolRecordTest, TrailingBytesAreCorrupt) {
  auto bytes = record_bytes({1, 2, 3}, {9, 9, 9});
  bytes.push_back(0);
  SpoolRecordHeader header;
  EXPECT_EQ(check_spool_record(bytes, header), SpoolRecordCheck::kCorrupt);
}

}  // namespace
}  // namespace ipattrib::agent
