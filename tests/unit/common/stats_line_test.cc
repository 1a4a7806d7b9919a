#include "ipattrib/stats_line.h"

#include <gtest/gtest.h>

namespace ipattrib {
namespace {

TEST(StatsLineTest, RendersInOrderAndLooksUp) {
  StatsLine line;
  line.counter("decode.frames", 10);
  line.counter("decode.not_tcp", 2);
  EXPECT_EQ(line.to_string(), "decode.frames=10 decode.not_tcp=2");
  EXPECT_EQ(line.value("decode.not_tcp"), 2u);
  EXPECT_EQ(line.value("missing"), 0u);
}

}  // namespace
}  // namespace ipattrib
