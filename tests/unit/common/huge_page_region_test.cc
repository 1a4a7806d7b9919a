// HugePageRegion: alignment, zero fill, and the memory it reports.
#include "ipattrib/huge_page_region.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace ipattrib {
namespace {

TEST(HugePageRegionTest, LargeRegionIsHugePageAlignedZeroedAndWritable) {
  constexpr std::size_t kBytes = (std::size_t{5} << 20) + 123;
  HugePageRegion region(kBytes);
  ASSERT_NE(region.data(), nullptr);
  EXPECT_TRUE(region.huge());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region.data()) % HugePageRegion::kHugePageBytes, 0u);
  EXPECT_EQ(region.size(), std::size_t{6} << 20);  // whole huge pages
  auto* bytes = static_cast<unsigned char*>(region.data());
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[kBytes - 1], 0);
  std::memset(bytes, 0xab, region.size());  // every byte of it is ours
  EXPECT_EQ(bytes[region.size() - 1], 0xab);
}

TEST(HugePageRegionTest, CommittedBytesAreWholePagesAndNeverPassTheSize) {
  HugePageRegion large(std::size_t{5} << 20);
  EXPECT_EQ(large.committed_bytes(0), 0u);
  EXPECT_EQ(large.committed_bytes(1), HugePageRegion::kHugePageBytes);
  EXPECT_EQ(large.committed_bytes((std::size_t{2} << 20) + 1), std::size_t{4} << 20);
  EXPECT_EQ(large.committed_bytes(std::size_t{100} << 20), large.size());

  HugePageRegion small(10000);  // below one huge page: ordinary pages
  EXPECT_FALSE(small.huge());
  EXPECT_LT(small.size(), HugePageRegion::kHugePageBytes);
  EXPECT_GE(small.size(), 10000u);
  EXPECT_LE(small.committed_bytes(1), small.size());
  EXPECT_LT(small.committed_bytes(1), HugePageRegion::kHugePageBytes);
}

TEST(HugePageRegionTest, MoveLeavesTheSourceEmpty) {
  HugePageRegion a(std::size_t{3} << 20);
  void* data = a.data();
  HugePageRegion b(std::move(a));
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(a.size(), 0u);
  HugePageRegion c;
  c = std::move(b);
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace ipattrib
