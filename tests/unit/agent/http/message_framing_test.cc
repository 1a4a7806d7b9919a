#include "agent/http/message_framing.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/http/request_head_parser.h"

namespace ipattrib::agent {
namespace {

using Kind = BodyFraming::Kind;

BodyFraming framing_of(const std::string& head_text) {
  static RequestHeadParser parser;
  static std::string storage;
  storage = head_text;
  RequestHead head;
  EXPECT_EQ(parser.parse(storage, head), RequestHeadParser::Result::kOk) << head_text;
  return request_body_framing(head);
}

TEST(MessageFramingTest, NoBodyWithoutLengthOrCoding) {
  EXPECT_EQ(framing_of("GET / HTTP/1.1\r\n\r\n").kind, Kind::kNone);
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").kind, Kind::kNone);
}

TEST(MessageFramingTest, ContentLength) {
  const BodyFraming f = framing_of("POST / HTTP/1.1\r\ncontent-length: 42\r\n\r\n");
  EXPECT_EQ(f.kind, Kind::kLength);
  EXPECT_EQ(f.length, 42u);
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n").length, 7u);
  for (const char* bad : {"POST / HTTP/1.1\r\nContent-Length: 7, 8\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999999\r\n\r\n"}) {
    EXPECT_EQ(framing_of(bad).kind, Kind::kInvalid) << bad;
  }
}

TEST(MessageFramingTest, TransferEncodingWinsAndMustEndInChunked) {
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\nContent-Length: 5\r\n\r\n").kind,
            Kind::kChunked);
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").kind, Kind::kChunked);
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n").kind, Kind::kInvalid);
  EXPECT_EQ(framing_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n").kind,
            Kind::kInvalid);
}

TEST(MessageFramingTest, ConnectIsATunnelUpgradeIsFlagged) {
  EXPECT_EQ(framing_of("CONNECT h:443 HTTP/1.1\r\n\r\n").kind, Kind::kTunnel);
  const BodyFraming upgrade = framing_of("POST /ws HTTP/1.1\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(upgrade.kind, Kind::kLength);
  EXPECT_TRUE(upgrade.upgrade);
  EXPECT_FALSE(framing_of("GET / HTTP/1.1\r\n\r\n").upgrade);
}

TEST(MessageFramingTest, ChunkSizeLines) {
  EXPECT_EQ(parse_chunk_size_line("1a"), 26u);
  EXPECT_EQ(parse_chunk_size_line("FF;name=value;x=\"q\""), 255u);
  EXPECT_EQ(parse_chunk_size_line("0 ; ext"), 0u);
  EXPECT_EQ(parse_chunk_size_line("fffffffffffffff"), 0xfffffffffffffffu);
  EXPECT_FALSE(parse_chunk_size_line("1000000000000000"));  // 16 digits: too large
  EXPECT_FALSE(parse_chunk_size_line(""));
  EXPECT_FALSE(parse_chunk_size_line(";ext"));
  EXPECT_FALSE(parse_chunk_size_line("1 2"));
  EXPECT_FALSE(parse_chunk_size_line("-1"));
  EXPECT_FALSE(parse_chunk_size_line("5;a\x01"));
}

}  // namespace
}  // namespace ipattrib::agent
