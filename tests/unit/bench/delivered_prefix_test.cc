#include "bench/generator/delivered_prefix.h"

#include <gtest/gtest.h>

namespace ipattrib::bench {
namespace {

TEST(DeliveredPrefixTest, InOrderSegmentsExtendThePrefix) {
  DeliveredPrefix p;
  EXPECT_EQ(p.add(0, 10), 10u);
  EXPECT_EQ(p.add(10, 25), 25u);
}

TEST(DeliveredPrefixTest, LaterSegmentWaitsForTheGap) {
  DeliveredPrefix p;
  EXPECT_EQ(p.add(10, 20), 0u);
  EXPECT_EQ(p.add(20, 30), 0u);
  EXPECT_EQ(p.add(0, 10), 30u);
}

TEST(DeliveredPrefixTest, DuplicatesAndOverlapsCountOnce) {
  DeliveredPrefix p;
  EXPECT_EQ(p.add(0, 10), 10u);
  EXPECT_EQ(p.add(0, 10), 10u);   // exact retransmission
  EXPECT_EQ(p.add(5, 15), 15u);   // old and new bytes
  EXPECT_EQ(p.add(2, 12), 15u);   // only old bytes
  EXPECT_EQ(p.add(30, 40), 15u);  // beyond a gap
  EXPECT_EQ(p.add(14, 31), 40u);  // fills it, overlapping both sides
}

}  // namespace
}  // namespace ipattrib::bench
