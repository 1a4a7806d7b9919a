#include "agent/attribution/id_text.h"

#include <gtest/gtest.h>

#include <string>

namespace ipattrib::agent {
namespace {

TEST(IdTextTest, AcceptsPlainAndRefusesControlOrOversize) {
  IdText t;
  EXPECT_TRUE(t.assign("acme"));
  EXPECT_EQ(t.view(), "acme");
  EXPECT_FALSE(t.assign(""));
  EXPECT_FALSE(t.assign(std::string("a\nb")));
  EXPECT_FALSE(t.assign(std::string(kMaxIdLength + 1, 'a')));
  EXPECT_EQ(t.view(), "");
  EXPECT_TRUE(t.assign(std::string(kMaxIdLength, 'a')));
}

TEST(IdTextTest, PercentDecoding) {
  IdText t;
  EXPECT_TRUE(t.assign_percent_decoded("acme%2Dcorp", false));
  EXPECT_EQ(t.view(), "acme-corp");
  EXPECT_TRUE(t.assign_percent_decoded("a+b%2b", true));
  EXPECT_EQ(t.view(), "a b+");
  EXPECT_TRUE(t.assign_percent_decoded("a+b", false));
  EXPECT_EQ(t.view(), "a+b");
  for (const char* bad : {"%", "%4", "a%zz", "%00", "%0a", "%7F", "%%41"}) {
    EXPECT_FALSE(t.assign_percent_decoded(bad, true)) << bad;
  }
  EXPECT_FALSE(t.assign_percent_decoded(std::string(kMaxIdLength + 1, 'a'), true));
  std::string encoded;
  for (std::size_t i = 0; i < kMaxIdLength; ++i) encoded += "%41";
  EXPECT_TRUE(t.assign_percent_decoded(encoded, false));  // the limit applies to the decoded length
  EXPECT_EQ(t.view(), std::string(kMaxIdLength, 'A'));
}

}  // namespace
}  // namespace ipattrib::agent
