#include "agent/flow/chunk_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace ipattrib::agent {
namespace {

TEST(ChunkPoolTest, NeverHandsOutMoreThanTheBound) {
  ChunkPool pool(10 * sizeof(Chunk) + 100);
  EXPECT_EQ(pool.max_chunks(), 10u);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 10; ++i) {
    const std::uint32_t c = pool.allocate();
    ASSERT_NE(c, kNoChunk);
    EXPECT_TRUE(seen.insert(c).second);
    pool.at(c).data[0] = static_cast<std::uint8_t>(i);
  }
  EXPECT_EQ(pool.allocate(), kNoChunk);
  EXPECT_EQ(pool.reserved_bytes(), 10 * sizeof(Chunk));
  pool.release(*seen.begin());
  EXPECT_EQ(pool.allocate(), *seen.begin());
  EXPECT_EQ(pool.chunks_in_use(), 10u);
}

TEST(ChunkPoolTest, ReleasedChainsAreReused) {
  ChunkPool pool(1000 * sizeof(Chunk));
  std::uint32_t head = kNoChunk;
  for (int i = 0; i < 600; ++i) {  // spans several slabs
    const std::uint32_t c = pool.allocate();
    ASSERT_NE(c, kNoChunk);
    pool.at(c).next = head;
    head = c;
  }
  const std::size_t reserved = pool.reserved_bytes();
  pool.release_chain(head);
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  for (int i = 0; i < 600; ++i) ASSERT_NE(pool.allocate(), kNoChunk);
  EXPECT_EQ(pool.reserved_bytes(), reserved);  // no new slabs
}

TEST(ChunkPoolTest, ZeroBoundGivesNothing) {
  ChunkPool pool(0);
  EXPECT_EQ(pool.allocate(), kNoChunk);
  EXPECT_EQ(pool.reserved_bytes(), 0u);
}

}  // namespace
}  // namespace ipattrib::agent
