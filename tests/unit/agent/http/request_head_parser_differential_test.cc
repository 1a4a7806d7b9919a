// Randomized differential test: heads built from realistic pieces, then
// mutated byte by byte (control bytes, tabs, CRs, LFs, colons, spaces,
// obs-text, cuts) at every kind of offset, must get the same verdicts, views
// and counters from RequestHeadParser as from the byte-at-a-time reference.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/agent/http/head_parser_differential.h"

namespace ipattrib::agent {
namespace {

const std::vector<std::string>& request_lines() {
  static const std::vector<std::string> lines = {
      "GET / HTTP/1.1",
      "POST /v1/accounts/42/orders?limit=10&offset=20 HTTP/1.1",
      "PUT /a HTTP/1.0",
      "DELETE  /items/7  HTTP/1.1 ",
      "OPTIONS * HTTP/1.",
      "CONNECT db.internal:5432 HTTP/1.1",
      "GET http://example.com:8080/a/b/c/d/e/f/g/h HTTP/1.1\t",
      "M-SEARCH * HTTP/1.1",
      "GET /caf\xc3\xa9/menu HTTP/1.1",
      "GET /x HTTP/2.0",
      "GET /x HTTP/1.12",
      "get /lower HTTP/1.1",
      std::string(32, 'M') + " /longest-method HTTP/1.1",  // request_start_shape's limit
      std::string(33, 'M') + " /too-long-method HTTP/1.1",
  };
  return lines;
}

const std::vector<std::string>& header_lines() {
  static const std::vector<std::string> lines = {
      "Host: api.example.com",
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
      "Accept: */*",
      "Content-Type: application/json",
      "Content-Length: 17",
      "Content-Length: 5, 5",
      "content-length:0",
      "Transfer-Encoding: gzip, chunked",
      "transfer-encoding: chunked ",
      "Upgrade: websocket",
      "X-Account-Id: acct-000123",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY2N0LTAwMDEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
      "X-Api-Key:\tk-1234567890abcdef\t",
      "X-Forwarded-For: 203.0.113.7, 10.0.0.1",
      "Forwarded: for=198.51.100.4;proto=https",
      "Cookie: session=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz",
      "X-Empty:",
      "X-Spaces:    ",
      "X-Obs: caf\xc3\xa9",
  };
  return lines;
}

std::string build_head(std::mt19937& rng) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  auto line_end = [&]() -> std::string { return pick(5) == 0 ? "\n" : "\r\n"; };
  std::string head = request_lines()[pick(request_lines().size())] + line_end();
  const std::size_t headers = pick(9);
  for (std::size_t i = 0; i < headers; ++i) head += header_lines()[pick(header_lines().size())] + line_end();
  head += line_end();
  if (pick(3) == 0) head += "GET /next HTTP/1.1\r\nHost: b\r\n\r\n";  // bytes after the head
  return head;
}

void mutate(std::mt19937& rng, std::string& head) {
  static const char kBytes[] = {'\0', '\x01', '\t', '\n', '\r', ' ', ':', '\x1f', '\x7f', '\x80', '\xff', 'a', ','};
  const std::size_t count = rng() % 4;
  for (std::size_t i = 0; i < count && !head.empty(); ++i) {
    const std::size_t at = rng() % head.size();
    // Bytes that matter to the grammar, or any byte (every tchar boundary).
    const char byte = rng() % 2 == 0 ? kBytes[rng() % sizeof(kBytes)] : static_cast<char>(rng() % 256);
    switch (rng() % 4) {
      case 0:
        head[at] = byte;
        break;
      case 1:
        head.insert(head.begin() + static_cast<std::ptrdiff_t>(at), byte);
        break;
      case 2:
        head.erase(at, 1);
        break;
      default:
        head.resize(at);  // cut, as a segment end does
        break;
    }
  }
}

TEST(RequestHeadParserDifferentialTest, AgreesWithByteAtATimeReferenceOnMutatedHeads) {
  std::mt19937 rng(20261207);
  std::size_t accepted = 0;
  for (int iteration = 0; iteration < 40000; ++iteration) {
    std::string head = build_head(rng);
    if (iteration % 8 != 0) mutate(rng, head);
    const std::size_t max_headers = 1 + rng() % 8;
    const std::size_t max_head_bytes = 64 + rng() % 1024;
    const std::size_t limit = rng() % 2 == 0 ? head.size() : rng() % (head.size() + 1);
    // Exact-size buffer: a read past the end is caught under ASan (an empty
    // one keeps the string's non-null pointer, as real buffers have).
    const std::vector<char> bytes(head.begin(), head.end());
    const std::string_view view = bytes.empty() ? std::string_view(head) : std::string_view(bytes.data(), bytes.size());
    const std::string diff = reference::compare_head_parsers(view, max_headers, max_head_bytes, limit);
    ASSERT_TRUE(diff.empty()) << diff << " on iteration " << iteration << ": \"" << head << "\"";
    RequestHeadParser parser(max_headers, max_head_bytes);
    RequestHead unused;
    if (parser.parse(view, unused) == RequestHeadParser::Result::kOk) ++accepted;
  }
  // The mix must exercise both verdicts, or the comparison proves little.
  EXPECT_GT(accepted, 4000u);
  EXPECT_LT(accepted, 36000u);
}

TEST(RequestHeadParserDifferentialTest, AgreesOnEveryByteValueAtEveryOffsetOfMethodNameTargetAndValue) {
  // Methods and names are checked 16 bytes at a time, targets and values
  // too: each byte value must get the reference's verdict wherever it falls
  // in a block, and in the tail near the end of the bytes.
  const std::string name(20, 'N');
  const std::string value(20, 'v');
  std::size_t accepted = 0;
  std::size_t cases = 0;
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string method = "PROPPATCHPROPPATCH";
      std::string field = name;
      std::string target = "/" + value;
      std::string val = value;
      const char c = static_cast<char>(byte);
      method[at % method.size()] = c;
      field[at] = c;
      target[at] = c;
      val[at] = c;
      const std::string tail = "Host: h\r\n\r\n";
      for (const std::string& head : {method + " / HTTP/1.1\r\n" + tail, "GET " + target + " HTTP/1.1\r\n" + tail,
                                      "GET / HTTP/1.1\r\n" + field + ": v\r\n" + tail,
                                      "GET / HTTP/1.1\r\nX: " + val + "\r\n" + tail,
                                      "GET / HTTP/1.1\r\n" + field + ": " + val + "\r\n\r\n"}) {
        const std::vector<char> bytes(head.begin(), head.end());
        const std::string_view view(bytes.data(), bytes.size());
        const std::string diff = reference::compare_head_parsers(view, 8, 4096, view.size());
        ASSERT_TRUE(diff.empty()) << diff << " with byte " << byte << " at " << at << ": \"" << head << "\"";
        RequestHeadParser parser;
        RequestHead unused;
        if (parser.parse(view, unused) == RequestHeadParser::Result::kOk) ++accepted;
        ++cases;
      }
    }
  }
  EXPECT_GT(accepted, cases / 4);
  EXPECT_LT(accepted, cases);
}

TEST(RequestHeadParserDifferentialTest, EqualsIgnoreCaseAgreesWithFoldingBothSides) {
  // Letters of both cases, their neighbours and the bytes 0x20 away from
  // them (which must not compare equal), and obs-text.
  static const char kAlphabet[] = {'a', 'A', 'z', 'Z', 'm', 'M', '@', '`', '[', '{', '-', '\r', '\xc1', '\xe1', '0'};
  std::mt19937 rng(7);
  std::size_t equal = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string a(rng() % 4, ' ');
    for (char& c : a) c = kAlphabet[rng() % sizeof(kAlphabet)];
    std::string b = a;
    for (char& c : b) {
      if (rng() % 3 == 0) c = kAlphabet[rng() % sizeof(kAlphabet)];
    }
    if (rng() % 8 == 0) b.push_back('a');
    const bool got = equals_ignore_case(a, b);
    ASSERT_EQ(got, reference::same_ignoring_case(a, b)) << '"' << a << "\" vs \"" << b << '"';
    if (got) ++equal;
  }
  EXPECT_GT(equal, 1000u);
  EXPECT_LT(equal, 19000u);
}

}  // namespace
}  // namespace ipattrib::agent
