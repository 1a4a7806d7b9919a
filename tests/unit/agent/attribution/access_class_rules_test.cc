#include "agent/attribution/access_class_rules.h"

#include <gtest/gtest.h>

namespace ipattrib::agent {
namespace {

TEST(AccessClassRulesTest, DefaultBySafeMethod) {
  const AccessClassRules rules({});
  for (const char* m : {"GET", "HEAD", "OPTIONS"}) EXPECT_EQ(rules.classify(m, "/x"), AccessClass::kAccess) << m;
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE", "get", "BREW"}) {
    EXPECT_EQ(rules.classify(m, "/x"), AccessClass::kAdmin) << m;
  }
}

TEST(AccessClassRulesTest, ConfiguredRulesFirstMatchWins) {
  const AccessClassRules rules({
      AccessClassRule{{"POST"}, "/v1/search", AccessClass::kAccess},  // a read-only POST
      AccessClassRule{{}, "/admin", AccessClass::kAdmin},
      AccessClassRule{{"GET"}, "", AccessClass::kAccess},
  });
  EXPECT_EQ(rules.classify("POST", "/v1/search"), AccessClass::kAccess);
  EXPECT_EQ(rules.classify("POST", "/v1/search/x"), AccessClass::kAccess);
  EXPECT_EQ(rules.classify("POST", "/v1/searchable"), AccessClass::kAdmin);  // default
  EXPECT_EQ(rules.classify("GET", "/admin/users"), AccessClass::kAdmin);
  EXPECT_EQ(rules.classify("GET", "/administrator"), AccessClass::kAccess);
  EXPECT_EQ(rules.classify("GET", "/admin"), AccessClass::kAdmin);
}

TEST(AccessClassRulesTest, PathPrefixMatchesWholeSegments) {
  EXPECT_TRUE(path_has_prefix("/admin", "/admin"));
  EXPECT_TRUE(path_has_prefix("/admin/x", "/admin"));
  EXPECT_TRUE(path_has_prefix("/admin/x", "/admin/"));
  EXPECT_FALSE(path_has_prefix("/admins", "/admin"));
  EXPECT_FALSE(path_has_prefix("/adm", "/admin"));
  EXPECT_TRUE(path_has_prefix("/anything", "/"));
}

}  // namespace
}  // namespace ipattrib::agent
