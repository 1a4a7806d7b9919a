#include "collector/ledger/access_time_codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace ipattrib::collector {
namespace {

std::vector<std::int64_t> round_trip(std::int64_t previous, const std::vector<std::int64_t>& times) {
  std::string bytes;
  encode_access_times(previous, times, bytes);
  std::vector<std::int64_t> out;
  EXPECT_TRUE(decode_access_times(previous, bytes, times.size(), out));
  return out;
}

TEST(AccessTimeCodecTest, RoundTripsAscendingTimes) {
  const std::vector<std::int64_t> times = {1'700'000'000'000, 1'700'000'000'000, 1'700'000'000'001, 1'700'000'000'200,
                                           1'700'000'086'400};
  EXPECT_EQ(round_trip(times.front(), times), times);
  EXPECT_EQ(round_trip(0, times), times);
}

TEST(AccessTimeCodecTest, SubSecondGapsCostAtMostTwoBytes) {
  std::vector<std::int64_t> times;
  for (std::int64_t t = 1'700'000'000'000; times.size() < 1000; t += 999) times.push_back(t);
  std::string bytes;
  encode_access_times(times.front(), times, bytes);
  EXPECT_LE(bytes.size(), 2 * times.size());
}

TEST(AccessTimeCodecTest, ExtremeValuesSurvive) {
  const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  const std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(round_trip(lo, {lo, -1, 0, hi}), (std::vector<std::int64_t>{lo, -1, 0, hi}));
}

TEST(AccessTimeCodecTest, RejectsTruncatedOverlongAndMiscountedInput) {
  std::string bytes;
  encode_access_times(0, std::vector<std::int64_t>{300, 100000}, bytes);
  std::vector<std::int64_t> out;
  EXPECT_FALSE(decode_access_times(0, std::string_view(bytes).substr(0, bytes.size() - 1), 2, out));
  out.clear();
  EXPECT_FALSE(decode_access_times(0, bytes, 3, out));  // too few values
  out.clear();
  EXPECT_FALSE(decode_access_times(0, bytes, 1, out));  // bytes left over
  out.clear();
  EXPECT_FALSE(decode_access_times(0, std::string(11, '\x80') + '\x01', 1, out));  // varint over 64 bits
  out.clear();
  EXPECT_TRUE(decode_access_times(0, "", 0, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace ipattrib::collector
