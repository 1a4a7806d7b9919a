#include "agent/attribution/jwt_claims.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/attribution/request_fixture.h"

namespace ipattrib::agent {
namespace {

using testing::base64url;
using testing::make_jwt;
using Result = JwtClaimReader::Result;

class JwtClaimReaderTest : public ::testing::Test {
 protected:
  Result read(std::string_view token, std::string_view claim = "account", std::string_view principal = "sub") {
    return reader_.read(token, claim, principal, account_, principal_);
  }
  JwtClaimReader reader_;
  IdText account_;
  IdText principal_;
};

TEST_F(JwtClaimReaderTest, StringClaimsAndPrincipal) {
  EXPECT_EQ(read(make_jwt(R"({"sub":"alice","account":"acme","exp":1700000000})")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
  EXPECT_EQ(principal_.view(), "alice");
}

TEST_F(JwtClaimReaderTest, NumericClaims) {
  EXPECT_EQ(read(make_jwt(R"({"account":4711,"sub":-3})")), Result::kFound);
  EXPECT_EQ(account_.view(), "4711");
  EXPECT_EQ(principal_.view(), "-3");
  EXPECT_EQ(read(make_jwt(R"({"account":18446744073709551615})")), Result::kFound);
  EXPECT_EQ(account_.view(), "18446744073709551615");
}

TEST_F(JwtClaimReaderTest, MissingOrUnusableClaim) {
  EXPECT_EQ(read(make_jwt(R"({"sub":"alice"})")), Result::kMissingClaim);
  EXPECT_EQ(principal_.view(), "");
  for (const char* payload : {R"({"account":null})", R"({"account":true})", R"({"account":1.5})", R"({"account":""})",
                              R"({"account":{"id":"acme"}})", R"({"account":["acme"]})",
                              R"({"nested":{"account":"acme"}})", R"({"account":"a\nb"})"}) {
    EXPECT_EQ(read(make_jwt(payload)), Result::kMissingClaim) << payload;
    EXPECT_EQ(account_.view(), "") << payload;
  }
}

TEST_F(JwtClaimReaderTest, NestedKeysDoNotLeakIntoTopLevel) {
  EXPECT_EQ(read(make_jwt(R"({"x":{"account":"evil"},"account":"acme","y":[{"account":"evil2"}]})")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
}

TEST_F(JwtClaimReaderTest, NoPrincipalClaimConfigured) {
  EXPECT_EQ(read(make_jwt(R"({"sub":"alice","account":"acme"})"), "account", ""), Result::kFound);
  EXPECT_EQ(principal_.view(), "");
}

TEST_F(JwtClaimReaderTest, PaddedPayloadIsTolerated) {
  const std::string payload = base64url(R"({"account":"acme"})");
  std::string padded = payload;
  while (padded.size() % 4 != 0) padded += '=';
  EXPECT_EQ(read("eyJhbGciOiJub25lIn0." + padded + ".sig"), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
}

TEST_F(JwtClaimReaderTest, NotAJwt) {
  for (const char* token : {"opaque-token", "a.b", "a.b.c.d", ""}) EXPECT_EQ(read(token), Result::kNotJwt) << token;
}

TEST_F(JwtClaimReaderTest, BadBase64) {
  for (const char* payload : {"!!!", "ab+/", "a", "abcde", "====", ""}) {
    EXPECT_EQ(read(std::string("h.") + payload + ".s"), Result::kInvalid) << payload;
  }
  EXPECT_EQ(read("h." + std::string(JwtClaimReader::kMaxEncodedPayload + 4, 'A') + ".s"), Result::kInvalid);
}

TEST_F(JwtClaimReaderTest, BadJson) {
  for (const char* payload : {R"({"account":"acme")", R"(["account","acme"])", R"("acme")", "42",
                              R"({"account":"acme"} trailing)", "\xff\xfe", R"({"account":"ac)"}) {
    EXPECT_EQ(read(make_jwt(payload)), Result::kInvalid) << payload;
    EXPECT_EQ(account_.view(), "");
  }
}

TEST_F(JwtClaimReaderTest, DeepNestingIsSkipped) {
  std::string deep = R"({"x":)" + std::string(2500, '[') + std::string(2500, ']') + R"(,"account":"acme"})";
  EXPECT_EQ(read(make_jwt(deep)), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
}

}  // namespace
}  // namespace ipattrib::agent
