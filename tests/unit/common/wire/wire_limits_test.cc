#include "ipattrib/wire/wire_limits.h"

#include <gtest/gtest.h>

namespace ipattrib::wire {
namespace {

TEST(WireLimitsTest, DefaultsWhenAbsentAndValuesWhenPresent) {
  ConfigErrors errors("test.toml");
  const WireLimits defaults = parse_wire_limits(toml::parse(""), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(defaults.max_frame_bytes, 16u << 20);
  const WireLimits set = parse_wire_limits(toml::parse("max_frame_bytes = 1048576\nmax_string_bytes = 256\n"), errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(set.max_frame_bytes, 1u << 20);
  EXPECT_EQ(set.max_string_bytes, 256u);
}

TEST(WireLimitsTest, RejectsUnknownKeysAndOutOfRangeValues) {
  ConfigErrors errors("test.toml");
  parse_wire_limits(toml::parse("max_frame_byte = 5\nmax_records_per_batch = 0\n"), errors);
  ASSERT_EQ(errors.errors().size(), 2u) << errors.to_string();
  EXPECT_NE(errors.to_string().find("max_frame_byte"), std::string::npos);
  EXPECT_NE(errors.to_string().find("test.toml:2"), std::string::npos) << errors.to_string();
}

}  // namespace
}  // namespace ipattrib::wire
