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
  // A byte outside the alphabet at any place of a four-character group.
  const std::string good = base64url(R"({"account":"acme","sub":"bob"})");
  ASSERT_EQ(read("h." + good + ".s"), Result::kFound);
  for (const char bad : {'+', '/', '=', '!', '.', ' ', '\0', '\x80', '\xff'}) {
    for (std::size_t at = 0; at < 8; ++at) {
      std::string payload = good;
      payload[at] = bad;
      EXPECT_EQ(read("h." + payload + ".s"), bad == '.' ? Result::kNotJwt : Result::kInvalid) << at << " " << int(bad);
    }
  }
}

TEST_F(JwtClaimReaderTest, BadJson) {
  for (const char* payload : {R"({"account":"acme")", R"(["account","acme"])", R"("acme")", "42",
                              R"({"account":"acme"} trailing)", "\xff\xfe", R"({"account":"ac)"}) {
    EXPECT_EQ(read(make_jwt(payload)), Result::kInvalid) << payload;
    EXPECT_EQ(account_.view(), "");
  }
}

TEST_F(JwtClaimReaderTest, StringEscapesAndUnicodeAreDecoded) {
  EXPECT_EQ(read(make_jwt(R"({"account":"ac\u006De\/x","sub":"\u00e9\ud83d\ude00"})")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme/x");
  EXPECT_EQ(principal_.view(), "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(read(make_jwt("{\"account\":\"caf\xC3\xA9\"}")), Result::kFound);  // raw UTF-8 passes through
  EXPECT_EQ(account_.view(), "caf\xC3\xA9");
  EXPECT_EQ(read(make_jwt("\xEF\xBB\xBF {\"account\" : \"acme\" }\r\n")), Result::kFound);  // BOM, whitespace
  EXPECT_EQ(account_.view(), "acme");
}

// Names and values without escapes are compared and kept where they are in
// the payload; with escapes they are decoded first. Both must give the same.
TEST_F(JwtClaimReaderTest, EscapedAndPlainSpellingsOfNamesAndValuesAgree) {
  EXPECT_EQ(read(make_jwt(R"({"\u0061ccount":"acme","s\u0075b":"bob"})")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
  EXPECT_EQ(principal_.view(), "bob");
  EXPECT_EQ(read(make_jwt(R"({"account":"ac\u006De","sub":"b\u006Fb","account":"acme2"})")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme2");
  EXPECT_EQ(principal_.view(), "bob");
  EXPECT_EQ(read(make_jwt("{\"account\":\"acme\",\"acc\xC3\xA9\":\"x\",\"acc\\\"\":\"y\"}")), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
  const std::string over(kMaxIdLength + 1, 'x');  // one past the limit, escaped or not: refused
  EXPECT_EQ(read(make_jwt(R"({"account":")" + over + R"("})")), Result::kMissingClaim);
  EXPECT_EQ(read(make_jwt(R"({"account":"\u0078)" + over.substr(1) + R"("})")), Result::kMissingClaim);
  EXPECT_EQ(read(make_jwt(R"({"account":"\u0078)" + over.substr(2) + R"("})")), Result::kFound);
  EXPECT_EQ(account_.view(), over.substr(1));
}

// String bytes are skipped 16 at a time where the CPU allows: an escape, a
// UTF-8 sequence or a control byte must be seen wherever it falls.
TEST_F(JwtClaimReaderTest, SpecialBytesAnywhereInALongString) {
  for (std::size_t at = 0; at < 40; ++at) {
    const std::string before(at, 'a');
    const std::string after(39 - at, 'z');
    EXPECT_EQ(read(make_jwt(R"({"account":")" + before + R"(\u0041)" + after + R"("})")), Result::kFound) << at;
    EXPECT_EQ(account_.view(), before + "A" + after) << at;
    EXPECT_EQ(read(make_jwt(R"({"account":")" + before + "\xC3\xA9" + after + R"("})")), Result::kFound) << at;
    EXPECT_EQ(account_.view(), before + "\xC3\xA9" + after) << at;
    EXPECT_EQ(read(make_jwt(R"({"account":")" + before + "\x01" + after + R"("})")), Result::kInvalid) << at;
    EXPECT_EQ(read(make_jwt(R"({"account":")" + before + "\xFF" + after + R"("})")), Result::kInvalid) << at;
    EXPECT_EQ(read(make_jwt(R"({"account":")" + before + R"(","x":")" + after + R"("})")),
              at == 0 ? Result::kMissingClaim : Result::kFound)  // an empty id is none
        << at;
    EXPECT_EQ(account_.view(), before) << at;
  }
}

TEST_F(JwtClaimReaderTest, IntegersAsJsonParsersReadThem) {
  EXPECT_EQ(read(make_jwt(R"({"account":-0})")), Result::kFound);
  EXPECT_EQ(account_.view(), "0");
  EXPECT_EQ(read(make_jwt(R"({"account":-9223372036854775808})")), Result::kFound);
  EXPECT_EQ(account_.view(), "-9223372036854775808");
  // Past 64 bits a JSON parser reads a float: no usable claim.
  for (const char* payload : {R"({"account":18446744073709551616})", R"({"account":-9223372036854775809})",
                              R"({"account":1e3})", R"({"account":2.0})"}) {
    EXPECT_EQ(read(make_jwt(payload)), Result::kMissingClaim) << payload;
  }
}

TEST_F(JwtClaimReaderTest, RepeatedClaimLastValueWinsAndLongValuesAreRefused) {
  EXPECT_EQ(read(make_jwt(R"({"account":"a","account":"b"})")), Result::kFound);
  EXPECT_EQ(account_.view(), "b");
  EXPECT_EQ(read(make_jwt(R"({"account":"a","account":""})")), Result::kMissingClaim);
  EXPECT_EQ(read(make_jwt(R"({"account":"a","account":1.5})")), Result::kFound);  // a float stores nothing
  EXPECT_EQ(account_.view(), "a");
  const std::string longest(kMaxIdLength, 'x');
  EXPECT_EQ(read(make_jwt(R"({"account":")" + longest + R"("})")), Result::kFound);
  EXPECT_EQ(account_.view(), longest);
  EXPECT_EQ(read(make_jwt(R"({"account":")" + longest + R"(y"})")), Result::kMissingClaim);
  // A member name longer than any id is no claim name, even if it starts like one.
  EXPECT_EQ(read(make_jwt(R"({")" + longest + R"(account":"evil","account":"acme"})"), longest + "account"),
            Result::kMissingClaim);
}

TEST_F(JwtClaimReaderTest, MalformedJsonInsideStringsAndNumbers) {
  for (const char* payload :
       {R"({"account":"\ud83d"})", R"({"account":"\ude00"})", R"({"account":"\uZZZZ"})", R"({"account":"\x"})",
        "{\"account\":\"a\x01\"}", "{\"account\":\"\xC0\xAF\"}", "{\"account\":\"\xED\xA0\x80\"}",
        "{\"account\":\"\xF4\x90\x80\x80\"}", "{\"account\":\"\xE2\x82\"}", R"({"account":01})",
        R"({"account":-})", R"({"account":1.})", R"({"account":1e})", R"({"account":.5})", R"({"account":tru})",
        R"({"a":[1,]})", R"({"a":1,})", R"({"a" 1})", R"({"a":[}])", R"({"a":{]})", R"({} {})", R"({"a":1)"}) {
    EXPECT_EQ(read(make_jwt(payload)), Result::kInvalid) << payload;
  }
}

TEST_F(JwtClaimReaderTest, DeepNestingIsSkipped) {
  std::string deep = R"({"x":)" + std::string(2500, '[') + std::string(2500, ']') + R"(,"account":"acme"})";
  EXPECT_EQ(read(make_jwt(deep)), Result::kFound);
  EXPECT_EQ(account_.view(), "acme");
}

}  // namespace
}  // namespace ipattrib::agent
