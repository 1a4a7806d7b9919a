#include "common/wire/byte_codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace ipattrib::wire {
namespace {

std::vector<std::uint8_t> encode_varint(std::uint64_t v) {
  std::vector<std::uint8_t> out;
  ByteWriter(out).varint(v);
  return out;
}

TEST(ByteCodecTest, VarintRoundTripsBoundaries) {
  for (std::uint64_t v : std::initializer_list<std::uint64_t>{0ull, 1ull, 127ull, 128ull, 300ull, 16383ull, 16384ull, (1ull << 63) - 1, 1ull << 63,
                          std::numeric_limits<std::uint64_t>::max()}) {
    const auto bytes = encode_varint(v);
    ByteReader r(bytes);
    std::uint64_t back = 0;
    ASSERT_TRUE(r.varint(back, "v")) << r.status().message();
    EXPECT_EQ(back, v);
    EXPECT_TRUE(r.at_end());
  }
  EXPECT_EQ(encode_varint(300), (std::vector<std::uint8_t>{0xac, 0x02}));
  EXPECT_EQ(encode_varint(std::numeric_limits<std::uint64_t>::max()).size(), 10u);
}

TEST(ByteCodecTest, ZigzagMapsSmallMagnitudesToSmallValues) {
  EXPECT_EQ(zigzag_encode(0), 0u);
  EXPECT_EQ(zigzag_encode(-1), 1u);
  EXPECT_EQ(zigzag_encode(1), 2u);
  for (std::int64_t v : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-5}, std::int64_t{123456789},
                         std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(zigzag_decode(zigzag_encode(v)), v);
  }
}

TEST(ByteCodecTest, RejectsTruncatedOverlongAndOverflowingVarints) {
  const std::vector<std::vector<std::uint8_t>> bad = {
      {},
      {0x80},
      {0x80, 0x00},                                                  // overlong zero
      {0xff, 0x80, 0x00},                                            // overlong
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},  // bit 64
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
  };
  for (const auto& bytes : bad) {
    ByteReader r(bytes);
    std::uint64_t v = 0;
    EXPECT_FALSE(r.varint(v, "field"));
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("field"), std::string::npos) << r.status().message();
  }
}

TEST(ByteCodecTest, StringLengthIsCheckedAgainstLimitAndRemainingBytes) {
  std::vector<std::uint8_t> bytes;
  ByteWriter(bytes).string("hello");
  std::string s;
  EXPECT_TRUE(ByteReader(bytes).string(s, 5, "s"));
  EXPECT_EQ(s, "hello");
  EXPECT_FALSE(ByteReader(bytes).string(s, 4, "s"));
  bytes.pop_back();
  ByteReader truncated(bytes);
  EXPECT_FALSE(truncated.string(s, 100, "s"));
  EXPECT_NE(truncated.status().message().find("remain"), std::string::npos);
}

TEST(ByteCodecTest, FirstFailureSticks) {
  const std::vector<std::uint8_t> bytes = {0x80};
  ByteReader r(bytes);
  std::uint64_t v = 0;
  std::uint8_t b = 0;
  EXPECT_FALSE(r.varint(v, "first"));
  EXPECT_FALSE(r.u8(b, "second"));
  EXPECT_NE(r.status().message().find("first"), std::string::npos);
}

}  // namespace
}  // namespace ipattrib::wire
