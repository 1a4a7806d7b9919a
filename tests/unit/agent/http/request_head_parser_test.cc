#include "agent/http/request_head_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "agent/http/http_syntax.h"

namespace ipattrib::agent {
namespace {

using Result = RequestHeadParser::Result;

TEST(RequestHeadParserTest, ParsesRequestLineAndHeaders) {
  RequestHeadParser parser;
  RequestHead head;
  const std::string text = "POST /v1/accounts?x=1 HTTP/1.1\r\nHost: api.example\r\nX-Api-Key:  k1  \r\n\r\n";
  ASSERT_EQ(parser.parse(text, head), Result::kOk);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/v1/accounts?x=1");
  EXPECT_EQ(head.version, "HTTP/1.1");
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "Host");
  EXPECT_EQ(head.headers[0].value, "api.example");
  EXPECT_EQ(head.headers[1].value, "k1");  // trimmed
}

TEST(RequestHeadParserTest, AcceptsAnyTokenMethodAbsoluteFormAndAsterisk) {
  RequestHeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse("OPTIONS * HTTP/1.1\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.target, "*");
  ASSERT_EQ(parser.parse("GET http://example.com:8080/a/b HTTP/1.0\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.target, "http://example.com:8080/a/b");
  EXPECT_EQ(head.version, "HTTP/1.0");
  ASSERT_EQ(parser.parse("PROPFIND /dav HTTP/1.1\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.method, "PROPFIND");
  ASSERT_EQ(parser.parse("CONNECT db.internal:5432 HTTP/1.1\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.target, "db.internal:5432");
}

TEST(RequestHeadParserTest, ChecksEveryByteOfLongTargetsAndValuesWhereverItFalls) {
  // Targets and values are checked eight bytes at a time; a byte to reject
  // (or a tab to accept) must be found at every offset of a word and in the
  // tail after the last whole word.
  RequestHeadParser parser;
  RequestHead head;
  for (std::size_t at = 0; at < 27; ++at) {
    std::string value(27, 'v');
    value[at] = '\t';
    const std::string with_tab = "GET / HTTP/1.1\r\nX-Long: a" + value + "z\r\n\r\n";
    ASSERT_EQ(parser.parse(with_tab, head), Result::kOk) << at;
    EXPECT_EQ(head.headers[0].value, "a" + value + "z");
    for (char bad : {'\x01', '\x1f', '\x7f', '\0'}) {
      value[at] = bad;
      EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nX-Long: a" + value + "z\r\n\r\n", head), Result::kBadHeader) << at;
    }
    value[at] = '\xe9';  // obs-text is allowed
    EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nX-Long: a" + value + "z\r\n\r\n", head), Result::kOk) << at;

    std::string target = "/" + std::string(26, 't');
    target[at] = '\xe9';
    const std::string high_byte = "GET " + target + " HTTP/1.1\r\n\r\n";  // head views point into it
    ASSERT_EQ(parser.parse(high_byte, head), Result::kOk) << at;
    EXPECT_EQ(head.target, target);
    for (char bad : {'\x7f', '\x01', '\t'}) {
      target[at] = bad;
      EXPECT_EQ(parser.parse("GET " + target + " HTTP/1.1\r\n\r\n", head), Result::kBadRequestLine) << at;
    }
  }
}

TEST(RequestHeadParserTest, KeepsRepeatedHeadersInOrderAndFindsCaseInsensitively) {
  RequestHeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n"
                         "COOKIE: a=b\r\n\r\n",
                         head),
            Result::kOk);
  ASSERT_EQ(head.headers.size(), 3u);
  EXPECT_EQ(head.headers[0].value, "1.1.1.1");
  EXPECT_EQ(head.headers[1].value, "2.2.2.2");
  const HttpHeader* xff = head.find("X-FORWARDED-FOR");
  ASSERT_NE(xff, nullptr);
  EXPECT_EQ(xff->value, "1.1.1.1");  // first one
  ASSERT_NE(head.find("cookie"), nullptr);
  EXPECT_EQ(head.find("Authorization"), nullptr);
}

TEST(RequestHeadParserTest, AcceptsLfOnlyLineEndsAndEmptyValues) {
  RequestHeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse("GET /x HTTP/1.1\nHost: h\nX-Empty:\n\n", head), Result::kOk);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].value, "h");
  EXPECT_EQ(head.headers[1].value, "");
}

TEST(RequestHeadParserTest, AcceptsTruncatedVersionAndExtraSpaces) {
  RequestHeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse("GET /x HTTP/1.\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.version, "HTTP/1.");
  ASSERT_EQ(parser.parse("GET  /x  HTTP/1.1 \r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.target, "/x");
  EXPECT_EQ(head.version, "HTTP/1.1");
}

TEST(RequestHeadParserTest, RejectsBadRequestLines) {
  RequestHeadParser parser;
  RequestHead head;
  for (const char* text : {"GET /x HTTP/2.0\r\n\r\n", "GET /x\r\n\r\n", "GET HTTP/1.1\r\n\r\n", "/x HTTP/1.1\r\n\r\n",
                           "GE(T /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.11\r\n\r\n", "GET /x http/1.1\r\n\r\n",
                           "GET /x HTTP/1.1 extra\r\n\r\n", "GET /\x01 HTTP/1.1\r\n\r\n", "\r\n", ""}) {
    EXPECT_EQ(parser.parse(text, head), Result::kBadRequestLine) << text;
  }
  EXPECT_EQ(parser.counters().bad_request_line, 11u);
}

TEST(RequestHeadParserTest, RejectsBadHeaderLines) {
  RequestHeadParser parser;
  RequestHead head;
  for (const char* text : {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nName : v\r\n\r\n",
                           "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\n: v\r\n\r\n",
                           "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n"}) {
    EXPECT_EQ(parser.parse(text, head), Result::kBadHeader) << text;
  }
  EXPECT_EQ(parser.counters().bad_header, 6u);
}

TEST(RequestHeadParserTest, CountsTooManyHeaders) {
  RequestHeadParser parser(3, 16384);
  RequestHead head;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", head), Result::kTooManyHeaders);
  EXPECT_EQ(parser.counters().too_many_headers, 1u);
}

TEST(RequestHeadParserTest, CountsHeadTooLarge) {
  RequestHeadParser parser(100, 64);
  RequestHead head;
  const std::string text = "GET /" + std::string(80, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parser.parse(text, head), Result::kTooLarge);
  EXPECT_EQ(parser.counters().head_too_large, 1u);
}

TEST(RequestHeadParserTest, ReusesStorageAcrossHeads) {
  RequestHeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nA: 1\r\n\r\n", head), Result::kOk);
  const HttpHeader* storage = head.headers.data();
  ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nB: 2\r\nC: 3\r\n\r\n", head), Result::kOk);
  EXPECT_EQ(head.headers.data(), storage);
  EXPECT_EQ(head.headers[0].name, "B");
}

TEST(RequestHeadParserTest, SurvivesGarbage) {
  RequestHeadParser parser;
  RequestHead head;
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 256));
  bytes += "\r\n\r\n";
  EXPECT_NE(parser.parse(bytes, head), Result::kOk);
}

// parse_prefix (the stream parser's one pass) must give parse()'s verdict
// and fields for every head, wherever a tab, CR, control byte or the end of
// the buffer falls, and report kIncomplete for every cut before the end.
TEST(RequestHeadParserTest, ParsePrefixAgreesWithParse) {
  const std::string base = "GET /a HTTP/1.1\r\nHost: h\r\nX-Long: 0123456789abcdefghij0123456789\r\nEmpty:\r\n\r\n";
  std::vector<std::string> heads = {base, "GET / HTTP/1.1\n\n", "GET / HTTP/1.1\nA: b\n\n", " GET / HTTP/1.1\r\n\r\n",
                                    "GET / HTTP/1.1\r\n fold\r\n\r\n", "GET / HTTP/1.1\r\n\r\r\n\r\n",
                                    "GET / HTTP/1.1\r\nA : b\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\r\n\r\n"};
  const std::size_t value_at = base.find("0123");
  for (const char c : {'\t', '\r', '\x01', '\x7f', '\x80', '\n', ' ', ':'}) {
    for (std::size_t i = base.find("\r\n") + 2; i < base.size() - 2; ++i) {
      std::string head = base;
      head[i] = c;
      heads.push_back(head);
    }
    std::string head = base;
    head.insert(value_at, 1, c);
    heads.push_back(head);
  }
  RequestHeadParser by_parse(2);
  RequestHeadParser by_prefix(2);
  for (const std::string& text : heads) {
    SCOPED_TRACE(testing::PrintToString(text));
    const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    const std::size_t end = http_syntax::find_head_end(bytes, 0, text.size());  // the search it replaces
    RequestHead expected;
    RequestHead got;
    const auto prefix = by_prefix.parse_prefix(text, 1000, got);
    if (!RequestHeadParser::is_request_line(text.substr(0, text.find('\n')))) {
      EXPECT_EQ(prefix.kind, RequestHeadParser::PrefixResult::Kind::kBadRequestLine);
      EXPECT_EQ(prefix.size, text.find('\n') + 1);
      continue;
    }
    if (end == http_syntax::kNotFound) {  // the change took away the empty line
      EXPECT_EQ(prefix.kind, RequestHeadParser::PrefixResult::Kind::kIncomplete);
      continue;
    }
    ASSERT_EQ(prefix.kind, RequestHeadParser::PrefixResult::Kind::kComplete);
    ASSERT_EQ(prefix.size, end);
    const Result result = by_parse.parse(std::string_view(text).substr(0, end), expected);
    ASSERT_EQ(prefix.result, result);
    if (result == Result::kOk) {
      ASSERT_EQ(got.headers.size(), expected.headers.size());
      for (std::size_t h = 0; h < got.headers.size(); ++h) {
        EXPECT_EQ(got.headers[h].name, expected.headers[h].name);
        EXPECT_EQ(got.headers[h].value, expected.headers[h].value);
      }
    }
    for (std::size_t cut = text.find('\n') + 1; cut < end; ++cut) {
      EXPECT_EQ(by_prefix.parse_prefix(std::string_view(text).substr(0, cut), 1000, got).kind,
                RequestHeadParser::PrefixResult::Kind::kIncomplete)
          << cut;
    }
  }
  EXPECT_EQ(by_prefix.counters().bad_header, by_parse.counters().bad_header);
  EXPECT_EQ(by_prefix.counters().too_many_headers, by_parse.counters().too_many_headers);
  EXPECT_GT(by_parse.counters().bad_header, 0u);
  EXPECT_GT(by_parse.counters().too_many_headers, 0u);
}

}  // namespace
}  // namespace ipattrib::agent
