#include "agent/http/proxy_protocol_parser.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace ipattrib::agent {
namespace {

using Kind = ProxyParseResult::Kind;

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

const std::vector<std::uint8_t> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

std::vector<std::uint8_t> v2(std::uint8_t ver_cmd, std::uint8_t family, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> out = kSignature;
  out.push_back(ver_cmd);
  out.push_back(family);
  out.push_back(static_cast<std::uint8_t>(body.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(body.size() & 0xff));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

const std::vector<std::uint8_t> kV4Body = {192, 0, 2, 1, 10, 0, 0, 5, 0xC3, 0x50, 0x01, 0xBB};  // 50000 -> 443

TEST(ProxyV1Test, ParsesTcp4AndCountsIt) {
  ProxyProtocolParser parser;
  const auto data = bytes("PROXY TCP4 192.0.2.1 10.0.0.5 50000 443\r\nGET / HTTP/1.1\r\n");
  const ProxyParseResult r = parser.parse(data);
  ASSERT_EQ(r.kind, Kind::kComplete);
  EXPECT_EQ(r.consumed, std::string("PROXY TCP4 192.0.2.1 10.0.0.5 50000 443\r\n").size());
  EXPECT_TRUE(r.addresses.present);
  EXPECT_EQ(r.addresses.source, *IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(r.addresses.destination, *IpAddress::parse("10.0.0.5"));
  EXPECT_EQ(r.addresses.source_port, 50000);
  EXPECT_EQ(r.addresses.destination_port, 443);
}

TEST(ProxyV1Test, ParsesTcp6AndUnknown) {
  const auto tcp6 = ProxyProtocolParser::parse_v1(bytes("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"));
  ASSERT_EQ(tcp6.kind, Kind::kComplete);
  EXPECT_EQ(tcp6.addresses.source, *IpAddress::parse("2001:db8::1"));
  EXPECT_EQ(tcp6.addresses.destination_port, 65535);
  const auto unknown = ProxyProtocolParser::parse_v1(bytes("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"));
  ASSERT_EQ(unknown.kind, Kind::kComplete);
  EXPECT_FALSE(unknown.addresses.present);
  EXPECT_EQ(ProxyProtocolParser::parse_v1(bytes("PROXY UNKNOWN\r\n")).kind, Kind::kComplete);
}

TEST(ProxyV1Test, RejectsBadFields) {
  for (const char* text : {
           "PROXY TCP4 192.0.2.1 10.0.0.5 50000 65536\r\n",    // port range
           "PROXY TCP4 192.0.2.1 10.0.0.5 050000 443\r\n",     // leading zero
           "PROXY TCP4 192.0.2.1 10.0.0.5 -1 443\r\n",         // sign
           "PROXY TCP4 192.0.2.256 10.0.0.5 1 443\r\n",        // octet
           "PROXY TCP4 2001:db8::1 10.0.0.5 1 443\r\n",        // family mismatch
           "PROXY TCP6 192.0.2.1 2001:db8::2 1 443\r\n",       // family mismatch
           "PROXY TCP6 [2001:db8::1] 2001:db8::2 1 443\r\n",   // brackets
           "PROXY TCP4  192.0.2.1 10.0.0.5 1 443\r\n",         // double space
           "PROXY TCP4 192.0.2.1 10.0.0.5 1 443 \r\n",         // trailing space
           "PROXY TCP4 192.0.2.1 10.0.0.5 1\r\n",              // missing field
           "PROXY UDP4 192.0.2.1 10.0.0.5 1 443\r\n",          // protocol
           "PROXY TCP4 192.0.2.1 10.0.0.5 1 443\n",            // LF only
           "PROXY tcp4 192.0.2.1 10.0.0.5 1 443\r\n",          // case
           "proxy TCP4 192.0.2.1 10.0.0.5 1 443\r\n",          // case
       }) {
    EXPECT_EQ(ProxyProtocolParser::parse_v1(bytes(text)).kind, Kind::kInvalid) << text;
  }
}

TEST(ProxyV1Test, TooLongWithoutLineEndIsInvalidShorterNeedsMore) {
  ProxyProtocolParser parser;
  std::string text = "PROXY UNKNOWN " + std::string(200, 'x');
  EXPECT_EQ(parser.parse(bytes(text.substr(0, 106))).kind, Kind::kNeedMore);
  EXPECT_EQ(parser.parse(bytes(text.substr(0, 107))).kind, Kind::kInvalid);
  // 107 bytes including CRLF is the maximum allowed.
  const std::string longest = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(longest.size(), 107u);
  EXPECT_EQ(parser.parse(bytes(longest)).kind, Kind::kComplete);
  const std::string too_long = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  EXPECT_EQ(parser.parse(bytes(too_long)).kind, Kind::kInvalid);
}

TEST(ProxyV1Test, EveryPrefixNeedsMore) {
  const std::string text = "PROXY TCP4 192.0.2.1 10.0.0.5 50000 443\r\n";
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_EQ(ProxyProtocolParser::parse_v1(bytes(text.substr(0, n))).kind, Kind::kNeedMore) << n;
  }
}

TEST(ProxyV2Test, ParsesIpv4) {
  ProxyProtocolParser parser;
  auto data = v2(0x21, 0x11, kV4Body);
  data.push_back('G');
  const ProxyParseResult r = parser.parse(data);
  ASSERT_EQ(r.kind, Kind::kComplete);
  EXPECT_EQ(r.consumed, 28u);
  EXPECT_TRUE(r.addresses.present);
  EXPECT_EQ(r.addresses.source, *IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(r.addresses.destination, *IpAddress::parse("10.0.0.5"));
  EXPECT_EQ(r.addresses.source_port, 50000);
  EXPECT_EQ(r.addresses.destination_port, 443);
}

TEST(ProxyV2Test, ParsesIpv6) {
  std::vector<std::uint8_t> body(36, 0);
  body[0] = 0x20;
  body[1] = 0x01;
  body[15] = 1;
  body[16] = 0x20;
  body[17] = 0x01;
  body[31] = 2;
  body[32] = 0x12;
  body[33] = 0x34;
  body[35] = 80;
  const ProxyParseResult r = ProxyProtocolParser::parse_v2(v2(0x21, 0x21, body));
  ASSERT_EQ(r.kind, Kind::kComplete);
  EXPECT_EQ(r.addresses.source, *IpAddress::parse("2001::1"));
  EXPECT_EQ(r.addresses.destination, *IpAddress::parse("2001::2"));
  EXPECT_EQ(r.addresses.source_port, 0x1234);
  EXPECT_EQ(r.addresses.destination_port, 80);
}

TEST(ProxyV2Test, LocalUnspecAndUnixCarryNoAddresses) {
  const ProxyParseResult local = ProxyProtocolParser::parse_v2(v2(0x20, 0x11, kV4Body));
  ASSERT_EQ(local.kind, Kind::kComplete);
  EXPECT_FALSE(local.addresses.present);
  EXPECT_EQ(local.consumed, 28u);
  const ProxyParseResult unspec = ProxyProtocolParser::parse_v2(v2(0x21, 0x00, {}));
  ASSERT_EQ(unspec.kind, Kind::kComplete);
  EXPECT_FALSE(unspec.addresses.present);
  const ProxyParseResult unix_socket = ProxyProtocolParser::parse_v2(v2(0x21, 0x31, std::vector<std::uint8_t>(216)));
  ASSERT_EQ(unix_socket.kind, Kind::kComplete);
  EXPECT_FALSE(unix_socket.addresses.present);
  const ProxyParseResult dgram = ProxyProtocolParser::parse_v2(v2(0x21, 0x12, kV4Body));
  ASSERT_EQ(dgram.kind, Kind::kComplete);
  EXPECT_FALSE(dgram.addresses.present);
}

TEST(ProxyV2Test, SkipsTlvs) {
  std::vector<std::uint8_t> body = kV4Body;
  const std::vector<std::uint8_t> tlvs = {0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x03, 0, 0, 0};  // ALPN, NOOP
  body.insert(body.end(), tlvs.begin(), tlvs.end());
  auto data = v2(0x21, 0x11, body);
  data.insert(data.end(), {'G', 'E', 'T'});
  const ProxyParseResult r = ProxyProtocolParser::parse_v2(data);
  ASSERT_EQ(r.kind, Kind::kComplete);
  EXPECT_EQ(r.consumed, 16 + body.size());
  EXPECT_EQ(r.addresses.source_port, 50000);
}

TEST(ProxyV2Test, EveryTruncationNeedsMore) {
  const auto data = v2(0x21, 0x11, kV4Body);
  for (std::size_t n = 0; n < data.size(); ++n) {
    EXPECT_EQ(ProxyProtocolParser::parse_v2(std::span(data.data(), n)).kind, Kind::kNeedMore) << n;
  }
  EXPECT_EQ(ProxyProtocolParser::parse_v2(data).kind, Kind::kComplete);
}

TEST(ProxyV2Test, RejectsBadSignatureVersionCommandFamilyAndShortAddresses) {
  auto bad_signature = v2(0x21, 0x11, kV4Body);
  bad_signature[7] = 0x52;
  EXPECT_EQ(ProxyProtocolParser::parse_v2(bad_signature).kind, Kind::kInvalid);
  // Wrong signature byte is detected before the header is complete.
  EXPECT_EQ(ProxyProtocolParser::parse_v2(std::span(bad_signature.data(), 8)).kind, Kind::kInvalid);
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x11, 0x11, kV4Body)).kind, Kind::kInvalid);  // version 1
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x22, 0x11, kV4Body)).kind, Kind::kInvalid);  // command 2
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x21, 0x41, kV4Body)).kind, Kind::kInvalid);  // family 4
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x21, 0x13, kV4Body)).kind, Kind::kInvalid);  // transport 3
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x21, 0x11, std::vector<std::uint8_t>(11))).kind, Kind::kInvalid);
  EXPECT_EQ(ProxyProtocolParser::parse_v2(v2(0x21, 0x21, std::vector<std::uint8_t>(35))).kind, Kind::kInvalid);
}

TEST(ProxyProtocolParserTest, CountsByVersionAndRejectsNonProxyBytes) {
  ProxyProtocolParser parser;
  EXPECT_EQ(parser.parse(bytes("GET / HTTP/1.1\r\n")).kind, Kind::kInvalid);
  EXPECT_EQ(parser.parse(bytes("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")).kind, Kind::kComplete);
  EXPECT_EQ(parser.parse(v2(0x21, 0x11, kV4Body)).kind, Kind::kComplete);
  EXPECT_EQ(parser.parse(bytes("PROX")).kind, Kind::kNeedMore);

  struct Recorder : StatsSink {
    std::map<std::string, std::uint64_t> values;
    void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  } recorder;
  parser.report(recorder);
  EXPECT_EQ(recorder.values["proxy.v1"], 1u);
  EXPECT_EQ(recorder.values["proxy.v2"], 1u);
  EXPECT_EQ(recorder.values["proxy.invalid"], 1u);
}

TEST(ProxyProtocolParserTest, StartsLikeProxy) {
  EXPECT_TRUE(ProxyProtocolParser::starts_like_proxy(bytes("PRO")));
  EXPECT_TRUE(ProxyProtocolParser::starts_like_proxy(bytes("PROXY TCP4")));
  EXPECT_TRUE(ProxyProtocolParser::starts_like_proxy(kSignature));
  EXPECT_FALSE(ProxyProtocolParser::starts_like_proxy(bytes("POST / HTTP/1.1")));
  EXPECT_FALSE(ProxyProtocolParser::starts_like_proxy({}));
}

}  // namespace
}  // namespace ipattrib::agent
