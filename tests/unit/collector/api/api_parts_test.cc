// The API's small parts: cursor tokens, bearer token checks, [api] config,
// request path splitting, the listening socket.
#include <gtest/gtest.h>
#include <httplib.h>

#include "collector/api/access_cursor_token.h"
#include "collector/api/api_config.h"
#include "collector/api/bearer_token_verifier.h"
#include "collector/api/api_server.h"
#include "collector/api/request_path.h"

namespace ipattrib::collector {
namespace {

TEST(AccessCursorTokenTest, RoundTripsEveryCursor) {
  for (const AccessCursor& c : {AccessCursor{0, 0}, AccessCursor{1700000000123, 2}, AccessCursor{-5, 1},
                                AccessCursor{INT64_MIN, UINT64_MAX}, AccessCursor{INT64_MAX, 0}}) {
    const std::string token = encode_access_cursor(c);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    AccessCursor back;
    ASSERT_TRUE(decode_access_cursor(token, back)) << token;
    EXPECT_EQ(back, c);
  }
}

TEST(AccessCursorTokenTest, RejectsForgeries) {
  AccessCursor c{7, 7};
  for (const std::string& bad :
       {std::string(""), std::string("!!"), std::string("a"), std::string(100, 'A'), std::string("MTIz"),  // "123"
        std::string("LjU"),                                                                                // ".5"
        std::string("MS4"),                                                                                // "1."
        std::string("MS4tMQ"),                                                                             // "1.-1"
        std::string("eC4x")}) {                                                                            // "x.1"
    EXPECT_FALSE(decode_access_cursor(bad, c)) << bad;
  }
  EXPECT_EQ(c, (AccessCursor{7, 7}));
  ASSERT_TRUE(decode_access_cursor("MS4y", c));  // "1.2"
  EXPECT_EQ(c, (AccessCursor{1, 2}));
}

TEST(BearerTokenVerifierTest, AcceptsOnlyConfiguredTokens) {
  BearerTokenVerifier v({BearerTokenVerifier::sha256_hex("s3cret"), BearerTokenVerifier::sha256_hex("other")});
  EXPECT_EQ(BearerTokenVerifier::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(v.accepts_header("Bearer s3cret"));
  EXPECT_TRUE(v.accepts_header("bearer   other "));
  EXPECT_FALSE(v.accepts_header("Bearer s3cre"));
  EXPECT_FALSE(v.accepts_header("Bearer s3cret2"));
  EXPECT_FALSE(v.accepts_header("Basic s3cret"));
  EXPECT_FALSE(v.accepts_header("Bearer "));
  EXPECT_FALSE(v.accepts_header(""));
  EXPECT_FALSE(v.accepts_header("s3cret"));
  // The hash itself is not a token.
  EXPECT_FALSE(v.accepts_token(BearerTokenVerifier::sha256_hex("s3cret")));
}

TEST(BearerTokenVerifierTest, NoTokensRefuseEverything) {
  BearerTokenVerifier v({});
  EXPECT_FALSE(v.accepts_header("Bearer "));
  EXPECT_FALSE(v.accepts_header("Bearer anything"));
  BearerTokenVerifier malformed({"zz", std::string(64, 'g')});
  EXPECT_FALSE(malformed.accepts_header("Bearer anything"));
}

ApiConfig parse(const std::string& text, ConfigErrors& errors) {
  toml::table root = toml::parse(text);
  return parse_api_config(*root["api"].as_table(), errors);
}

TEST(ApiConfigTest, Defaults) {
  ConfigErrors errors("t.toml");
  ApiConfig c = parse("[api]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.listen, "127.0.0.1:8470");
  EXPECT_TRUE(c.token_sha256.empty());
  EXPECT_FALSE(c.metrics_require_token);
  EXPECT_EQ(c.max_page, 1000u);
  EXPECT_TRUE(c.tls_cert.empty());
}

TEST(ApiConfigTest, ReadsEveryKey) {
  ConfigErrors errors("t.toml");
  const std::string hash(64, 'A');
  ApiConfig c =
      parse("[api]\nlisten = \"[::1]:9000\"\ntoken_sha256 = [\"" + hash +
                "\"]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nmetrics_require_token = true\nmax_page = 50\n",
            errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.listen, "[::1]:9000");
  EXPECT_EQ(c.token_sha256, std::vector<std::string>{std::string(64, 'a')});
  EXPECT_EQ(c.tls_cert, "c.pem");
  EXPECT_TRUE(c.metrics_require_token);
  EXPECT_EQ(c.max_page, 50u);
}

TEST(ApiConfigTest, RejectsBadValuesWithLines) {
  ConfigErrors errors("t.toml");
  parse(
      "[api]\nlisten = \"nohost\"\ntoken_sha256 = [\"my-plain-token\"]\ntls_cert = \"c.pem\"\nmax_page = 0\nlsten = "
      "1\n",
      errors);
  const std::string text = errors.to_string();
  EXPECT_NE(text.find("t.toml:2:"), std::string::npos) << text;
  EXPECT_NE(text.find("t.toml:3:"), std::string::npos) << text;
  EXPECT_NE(text.find("tls_key"), std::string::npos) << text;
  EXPECT_NE(text.find("max_page"), std::string::npos) << text;
  EXPECT_NE(text.find("lsten"), std::string::npos) << text;
  EXPECT_EQ(text.find("my-plain-token"), std::string::npos) << "a mistaken token must not be echoed";
}

// httplib sets SO_REUSEPORT by default, under which a second collector on
// the same [api] listen would start and take half the connections.
TEST(ApiServerTest, ASecondServerOnTheSameAddressCannotBind) {
  ApiConfig config;
  std::unique_ptr<httplib::Server> first;
  std::unique_ptr<httplib::Server> second;
  ASSERT_TRUE(make_api_server(config, first));
  ASSERT_TRUE(make_api_server(config, second));
  const int port = first->bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  EXPECT_FALSE(second->bind_to_port("127.0.0.1", port));
}

TEST(RequestPathTest, SplitsRawThenDecodes) {
  std::vector<std::string> seg;
  ASSERT_TRUE(split_request_path("/v1/accounts/a%2Fb/ips?x=%2F", seg));
  EXPECT_EQ(seg, (std::vector<std::string>{"v1", "accounts", "a/b", "ips"}));
  ASSERT_TRUE(split_request_path("/v1/ips/10.0.0.0/8/accounts", seg));
  EXPECT_EQ(seg.size(), 5u);
  ASSERT_TRUE(split_request_path("/v1/accounts/nul%00%ff/ips#frag", seg));
  EXPECT_EQ(seg[2], std::string("nul\0\xff", 5));
  ASSERT_TRUE(split_request_path("/v1/accounts//ips", seg));
  EXPECT_EQ(seg[2], "");
  ASSERT_TRUE(split_request_path("/v1/", seg));
  EXPECT_EQ(seg, (std::vector<std::string>{"v1", ""}));
  for (const char* bad : {"/v1/a%", "/v1/a%2", "/v1/a%zz/b", "/v1/%g0"}) {
    EXPECT_FALSE(split_request_path(bad, seg)) << bad;
  }
}

}  // namespace
}  // namespace ipattrib::collector
