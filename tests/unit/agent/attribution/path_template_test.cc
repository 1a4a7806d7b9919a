#include "agent/attribution/path_template.h"

#include <gtest/gtest.h>

namespace ipattrib::agent {
namespace {

PathTemplate parse_ok(std::string_view text) {
  std::string error;
  auto t = PathTemplate::parse(text, error);
  EXPECT_TRUE(t) << text << ": " << error;
  return t ? *t : PathTemplate();
}

std::string match(const PathTemplate& t, std::string_view path) {
  const auto m = t.match(path);
  return m ? std::string(*m) : "<none>";
}

TEST(PathTemplateTest, ClosedTemplateMustEnd) {
  const PathTemplate t = parse_ok("/v1/accounts/{account}");
  EXPECT_EQ(match(t, "/v1/accounts/acme"), "acme");
  EXPECT_EQ(match(t, "/v1/accounts/acme/"), "acme");  // trailing slash tolerated
  EXPECT_EQ(match(t, "/v1/accounts/acme/users"), "<none>");
  EXPECT_EQ(match(t, "/v1/accounts/acme//"), "<none>");
  EXPECT_EQ(match(t, "/v1/accounts/"), "<none>");
  EXPECT_EQ(match(t, "/v1/accounts"), "<none>");
  EXPECT_EQ(match(t, "/v1/accounts//x"), "<none>");
  EXPECT_EQ(match(t, "/v2/accounts/acme"), "<none>");
  EXPECT_EQ(match(t, "/V1/accounts/acme"), "<none>");
  EXPECT_EQ(match(t, "v1/accounts/acme"), "<none>");
  EXPECT_EQ(match(t, ""), "<none>");
  EXPECT_EQ(match(t, "/"), "<none>");
}

TEST(PathTemplateTest, OpenEndedTemplateAcceptsAnyRest) {
  for (const char* text : {"/v1/accounts/{account}/...", "/v1/accounts/{account}/*"}) {
    const PathTemplate t = parse_ok(text);
    EXPECT_EQ(match(t, "/v1/accounts/acme"), "acme");
    EXPECT_EQ(match(t, "/v1/accounts/acme/"), "acme");
    EXPECT_EQ(match(t, "/v1/accounts/acme/users/7"), "acme");
    EXPECT_EQ(match(t, "/v1/accounts"), "<none>");
    EXPECT_EQ(match(t, "/v1/other/acme/x"), "<none>");
  }
}

TEST(PathTemplateTest, AccountInTheMiddleOrFirst) {
  const PathTemplate first = parse_ok("/{account}/...");
  EXPECT_EQ(match(first, "/acme/x"), "acme");
  EXPECT_EQ(match(first, "/"), "<none>");
  const PathTemplate middle = parse_ok("/t/{account}/servers");
  EXPECT_EQ(match(middle, "/t/acme/servers"), "acme");
  EXPECT_EQ(match(middle, "/t/acme/servers/1"), "<none>");
  EXPECT_EQ(match(middle, "/t/acme"), "<none>");
}

TEST(PathTemplateTest, CapturesStayEncoded) {
  const PathTemplate t = parse_ok("/a/{account}");
  EXPECT_EQ(match(t, "/a/ac%20me"), "ac%20me");
}

TEST(PathTemplateTest, RejectsMalformedTemplates) {
  for (const char* bad : {"", "v1/{account}", "/v1/accounts", "/{account}/{account}", "/a//{account}",
                          "/a/.../{account}", "/a/{principal}/{account}", "/a/{account}x", "/a/{account}/.../..."}) {
    std::string error;
    EXPECT_FALSE(PathTemplate::parse(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace ipattrib::agent
