#include "ipattrib/wire/control_messages.h"

#include <gtest/gtest.h>

namespace ipattrib::wire {
namespace {

// Strips the 8-byte header after checking it names `type`.
std::vector<std::uint8_t> body_of(const std::vector<std::uint8_t>& frame, FrameType type) {
  EXPECT_GE(frame.size(), kFrameHeaderBytes);
  EXPECT_EQ(frame[5], static_cast<std::uint8_t>(type));
  return std::vector<std::uint8_t>(frame.begin() + kFrameHeaderBytes, frame.end());
}

TEST(ControlMessagesTest, HelloRoundTripsAndEveryTruncationFails) {
  const Hello hello{"agent-ü-1", "gw-fra-1", "ipattrib-agent 0.1.0", 17, 42};
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_hello(hello, frame).is_ok());
  const auto body = body_of(frame, FrameType::kHello);
  Hello back;
  ASSERT_TRUE(decode_hello(body, back).is_ok());
  EXPECT_EQ(back, hello);
  for (std::size_t n = 0; n < body.size(); ++n) {
    Hello partial;
    EXPECT_FALSE(decode_hello(std::span(body).first(n), partial).is_ok()) << n;
  }
  auto longer = body;
  longer.push_back(0);
  EXPECT_FALSE(decode_hello(longer, back).is_ok());
}

TEST(ControlMessagesTest, MatchesTheWorkedExampleOfProtocolMd) {
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_hello(Hello{"agent-1", "gw-1", "0.1.0", 5, 6}, frame).is_ok());
  EXPECT_EQ(frame, (std::vector<std::uint8_t>{0x00, 0x00, 0x00, 0x15, 0x01, 0x01, 0x00, 0x00, 0x07, 0x61,
                                              0x67, 0x65, 0x6e, 0x74, 0x2d, 0x31, 0x04, 0x67, 0x77, 0x2d,
                                              0x31, 0x05, 0x30, 0x2e, 0x31, 0x2e, 0x30, 0x05, 0x06}));
  frame.clear();
  ASSERT_TRUE(encode_hello_ack(HelloAck{4, 16u << 20, "0.1.0"}, frame).is_ok());
  EXPECT_EQ(frame, (std::vector<std::uint8_t>{0x00, 0x00, 0x00, 0x0b, 0x01, 0x02, 0x00, 0x00, 0x04, 0x80, 0x80,
                                              0x80, 0x08, 0x05, 0x30, 0x2e, 0x31, 0x2e, 0x30}));
  frame.clear();
  ASSERT_TRUE(encode_error(WireError{WireErrorCode::kUnsupportedVersion, "v"}, frame).is_ok());
  EXPECT_EQ(frame, (std::vector<std::uint8_t>{0x00, 0x00, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x02, 0x01, 0x76}));
}

TEST(ControlMessagesTest, HelloRejectsEmptyAgentAndInconsistentRange) {
  std::vector<std::uint8_t> frame;
  EXPECT_FALSE(encode_hello(Hello{"", "gw", "v", 0, 0}, frame).is_ok());
  EXPECT_FALSE(encode_hello(Hello{"a", "gw", "v", 5, 4}, frame).is_ok());
  EXPECT_FALSE(encode_hello(Hello{"a", "gw", "v", 0, 4}, frame).is_ok());
  EXPECT_TRUE(frame.empty());
  const std::vector<std::uint8_t> empty_agent = {0, 0, 0, 0, 0};
  Hello back;
  EXPECT_FALSE(decode_hello(empty_agent, back).is_ok());
}

TEST(ControlMessagesTest, HelloStringOverLimitIsRefused) {
  WireLimits limits;
  limits.max_string_bytes = 8;
  std::vector<std::uint8_t> frame;
  EXPECT_FALSE(encode_hello(Hello{"123456789", "", "", 0, 0}, frame, limits).is_ok());
  ASSERT_TRUE(encode_hello(Hello{"123456789", "", "", 0, 0}, frame).is_ok());
  Hello back;
  const Status s = decode_hello(body_of(frame, FrameType::kHello), back, limits);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("limit"), std::string::npos) << s.message();
}

TEST(ControlMessagesTest, HelloAckAndAckRoundTrip) {
  const HelloAck hello_ack{1ull << 40, 16u << 20, "ipattrib-collector 0.1.0"};
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_hello_ack(hello_ack, frame).is_ok());
  HelloAck back;
  ASSERT_TRUE(decode_hello_ack(body_of(frame, FrameType::kHelloAck), back).is_ok());
  EXPECT_EQ(back, hello_ack);

  frame.clear();
  ASSERT_TRUE(encode_ack(Ack{300}, frame).is_ok());
  EXPECT_EQ(frame, (std::vector<std::uint8_t>{0, 0, 0, 2, 1, 4, 0, 0, 0xac, 0x02}));
  Ack ack;
  ASSERT_TRUE(decode_ack(body_of(frame, FrameType::kAck), ack).is_ok());
  EXPECT_EQ(ack.sequence, 300u);
  EXPECT_FALSE(encode_ack(Ack{0}, frame).is_ok());
  EXPECT_FALSE(decode_ack(std::vector<std::uint8_t>{0}, ack).is_ok());
  EXPECT_FALSE(decode_ack(std::vector<std::uint8_t>{1, 1}, ack).is_ok());
}

TEST(ControlMessagesTest, ErrorRoundTripsKeepsUnknownCodesAndCutsLongMessages) {
  std::vector<std::uint8_t> frame;
  ASSERT_TRUE(encode_error(WireError{WireErrorCode::kUnsupportedVersion, "version 2 unsupported"}, frame).is_ok());
  WireError back;
  ASSERT_TRUE(decode_error(body_of(frame, FrameType::kError), back).is_ok());
  EXPECT_EQ(back.code, WireErrorCode::kUnsupportedVersion);
  EXPECT_EQ(back.message, "version 2 unsupported");

  const std::vector<std::uint8_t> future_code = {0xe8, 0x07, 0};  // code 1000, ""
  ASSERT_TRUE(decode_error(future_code, back).is_ok());
  EXPECT_EQ(static_cast<std::uint16_t>(back.code), 1000);
  const std::vector<std::uint8_t> code_too_big = {0x80, 0x80, 0x04, 0};  // 65536
  EXPECT_FALSE(decode_error(code_too_big, back).is_ok());

  WireLimits limits;
  limits.max_string_bytes = 5;
  frame.clear();
  ASSERT_TRUE(encode_error(WireError{WireErrorCode::kInternal, "abcd\xc3\xa9xyz"}, frame, limits).is_ok());
  ASSERT_TRUE(decode_error(body_of(frame, FrameType::kError), back, limits).is_ok());
  EXPECT_EQ(back.message, "abcd");  // the two-byte "é" is not split
}

}  // namespace
}  // namespace ipattrib::wire
