#include "agent/attribution/request_target.h"

#include <gtest/gtest.h>

namespace ipattrib::agent {
namespace {

TEST(RequestTargetTest, OriginForm) {
  EXPECT_EQ(request_path("/v1/x?a=1#f"), "/v1/x");
  EXPECT_EQ(request_query("/v1/x?a=1#f"), "a=1");
  EXPECT_EQ(request_path("/"), "/");
  EXPECT_EQ(request_query("/v1/x"), "");
  EXPECT_EQ(request_query("/v1/x?"), "");
}

TEST(RequestTargetTest, AbsoluteForm) {
  EXPECT_EQ(request_path("http://api.example:8080/v1/x?a=1"), "/v1/x");
  EXPECT_EQ(request_query("http://api.example:8080/v1/x?a=1"), "a=1");
  EXPECT_EQ(request_path("https://api.example"), "/");
  EXPECT_EQ(request_path("http://api.example?a=1"), "/");
  EXPECT_EQ(request_query("http://api.example?a=1"), "a=1");
}

TEST(RequestTargetTest, FormsWithoutAPath) {
  EXPECT_EQ(request_path("*"), "");
  EXPECT_EQ(request_path("api.example:443"), "");
  EXPECT_EQ(request_path(""), "");
  EXPECT_EQ(request_path("://x/y"), "");
  EXPECT_EQ(request_path("ht tp://x/y"), "");
  EXPECT_EQ(request_query("*"), "");
}

}  // namespace
}  // namespace ipattrib::agent
