// Client-stream reassembly: order, retransmissions, wrap-around and the
// bounds that make the table skip holes.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "agent/flow/flow_table.h"
#include "tests/unit/agent/flow/flow_test_support.h"

namespace ipattrib::agent {
namespace {

using testing::Connection;
using testing::RecordingConsumer;

struct Piece {
  std::uint32_t offset;
  std::string bytes;
};

std::string make_stream(std::size_t size, std::mt19937& rng) {
  std::string s(size, 'x');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

std::vector<Piece> cut(const std::string& stream, std::mt19937& rng, std::size_t max_piece) {
  std::vector<Piece> pieces;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % max_piece, stream.size() - at);
    pieces.push_back({static_cast<std::uint32_t>(at), stream.substr(at, n)});
    at += n;
  }
  return pieces;
}

class ReassemblyTest : public ::testing::Test {
 protected:
  FlowConfig config;
  RecordingConsumer consumer;
  Connection conn;

  std::string delivered() { return consumer.streams[conn.client_port]; }
  int gaps() { return consumer.gaps[conn.client_port]; }
};

TEST_F(ReassemblyTest, InOrderSegmentsArriveWithoutCopy) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.syn_ack());
  const std::string a = "GET / HTTP/1.1\r\n";
  const std::string b = "Host: x\r\n\r\n";
  PacketView first = conn.data(0, a);
  table.on_segment(first);
  EXPECT_EQ(consumer.last_data, first.payload.data());
  table.on_segment(conn.data(a.size(), b));
  EXPECT_EQ(delivered(), a + b);
  EXPECT_EQ(gaps(), 0);
  EXPECT_EQ(table.counters().client_bytes, a.size() + b.size());
}

TEST_F(ReassemblyTest, UnconsumedBytesAreOfferedAgainJoinedWithNewOnes) {
  consumer.head_mode = true;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  const std::string a = "GET / HTTP/1.1\r\nHo";
  const std::string b = "st: x\r\n\r\nGET /next";
  const std::string c = " HTTP/1.1\r\n\r\n";
  table.on_segment(conn.data(0, a));
  EXPECT_EQ(delivered(), "");
  table.on_segment(conn.data(a.size(), b));
  EXPECT_EQ(delivered(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  table.on_segment(conn.data(a.size() + b.size(), c));
  EXPECT_EQ(delivered(), a + b + c);
  EXPECT_EQ(gaps(), 0);
}

TEST_F(ReassemblyTest, AnyPermutationGivesTheSameStream) {
  std::mt19937 rng(1234);
  const std::string stream = make_stream(20000, rng);
  for (int round = 0; round < 60; ++round) {
    RecordingConsumer local;
    local.head_mode = round % 2 == 1;
    std::string text = stream;
    if (local.head_mode) text += "\r\n\r\n";
    config.max_out_of_order_bytes = 64 << 10;
    config.max_buffered_bytes_per_flow = 64 << 10;
    FlowTable table(config, local);
    table.on_segment(conn.syn());
    std::vector<Piece> pieces = cut(text, rng, 1500);
    if (round == 0) {
      std::reverse(pieces.begin(), pieces.end());
    } else {
      std::shuffle(pieces.begin(), pieces.end(), rng);
    }
    for (const Piece& p : pieces) table.on_segment(conn.data(p.offset, p.bytes));
    ASSERT_EQ(local.streams[conn.client_port], text) << "round " << round;
    EXPECT_EQ(local.gaps[conn.client_port], 0);
    EXPECT_EQ(table.counters().retransmitted_bytes, 0u);
  }
}

TEST_F(ReassemblyTest, RetransmissionsAndOverlapsDeliverEachByteOnce) {
  std::mt19937 rng(99);
  const std::string stream = make_stream(8000, rng);
  for (int round = 0; round < 40; ++round) {
    RecordingConsumer local;
    FlowTable table(config, local);
    table.on_segment(conn.syn());
    // Random overlapping windows, each byte covered at least once.
    std::vector<Piece> pieces = cut(stream, rng, 900);
    const std::size_t originals = pieces.size();
    for (std::size_t i = 0; i < originals; ++i) {
      const std::uint32_t from = pieces[i].offset >= 300 ? pieces[i].offset - rng() % 300 : 0;
      const std::size_t len = std::min<std::size_t>(stream.size() - from, 1 + rng() % 2500);
      pieces.push_back({from, stream.substr(from, len)});  // partial overlap or superset
      pieces.push_back(pieces[i]);                          // exact duplicate
    }
    std::shuffle(pieces.begin(), pieces.end(), rng);
    for (const Piece& p : pieces) table.on_segment(conn.data(p.offset, p.bytes));
    ASSERT_EQ(local.streams[conn.client_port], stream) << "round " << round;
    EXPECT_EQ(local.gaps[conn.client_port], 0);
    std::size_t sent = 0;
    for (const Piece& p : pieces) sent += p.bytes.size();
    EXPECT_EQ(table.counters().retransmitted_bytes, sent - stream.size());
  }
}

TEST_F(ReassemblyTest, SequenceNumbersWrapAround) {
  std::mt19937 rng(7);
  const std::string stream = make_stream(6000, rng);
  conn.client_isn = 0xFFFFFFFFu - 2000;  // the stream crosses 2^32
  for (int round = 0; round < 20; ++round) {
    RecordingConsumer local;
    FlowTable table(config, local);
    table.on_segment(conn.syn());
    std::vector<Piece> pieces = cut(stream, rng, 700);
    if (round > 0) std::shuffle(pieces.begin(), pieces.end(), rng);
    for (const Piece& p : pieces) table.on_segment(conn.data(p.offset, p.bytes));
    table.on_segment(conn.data(10, stream.substr(10, 3000)));  // old bytes across the wrap
    ASSERT_EQ(local.streams[conn.client_port], stream) << "round " << round;
    EXPECT_EQ(table.counters().retransmitted_bytes, 3000u);
  }
}

TEST_F(ReassemblyTest, OversizedHeadOverflowsTheBufferAndReportsAGap) {
  consumer.head_mode = true;
  config.max_buffered_bytes_per_flow = 4096;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  const std::string junk(1000, 'h');
  std::uint32_t at = 0;
  for (int i = 0; i < 6; ++i, at += junk.size()) table.on_segment(conn.data(at, junk));
  EXPECT_EQ(table.counters().buffer_overflow, 1u);
  EXPECT_EQ(gaps(), 1);
  EXPECT_EQ(table.counters().dropped_buffered_bytes, 5000u);
  // After the gap the stream continues normally.
  const std::string head = "GET / HTTP/1.1\r\n\r\n";
  table.on_segment(conn.data(at, head));
  EXPECT_EQ(delivered(), junk + head);
}

TEST_F(ReassemblyTest, HoleIsSkippedWhenOutOfOrderBufferIsFull) {
  config.max_out_of_order_bytes = 4096;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "AAAA"));
  // Bytes 4..99 never arrive.
  std::string later;
  for (int i = 0; i < 6; ++i) {
    const std::string piece(1000, static_cast<char>('b' + i));
    table.on_segment(conn.data(100 + 1000 * i, piece));
    later += piece;
  }
  EXPECT_GE(table.counters().ooo_overflow, 1u);
  EXPECT_EQ(gaps(), 1);
  EXPECT_EQ(delivered(), "AAAA" + later.substr(0, delivered().size() - 4));
  // A late retransmission of the hole is not delivered out of place.
  table.on_segment(conn.data(4, std::string(96, 'z')));
  table.flush_all();
  EXPECT_EQ(delivered(), "AAAA" + later);
}

TEST_F(ReassemblyTest, SegmentLargerThanTheOutOfOrderBoundJumpsTheHole) {
  config.max_out_of_order_bytes = 1024;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  const std::string big(3000, 'q');
  table.on_segment(conn.data(50, big));
  EXPECT_EQ(delivered(), big);
  EXPECT_EQ(gaps(), 1);
  EXPECT_EQ(table.counters().ooo_overflow, 1u);
}

TEST_F(ReassemblyTest, FinDeliversPastAHole) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "abc"));
  table.on_segment(conn.data(10, "xyz"));
  table.on_segment(conn.from_client(conn.client_isn + 1 + 13, "", kTcpFin | kTcpAck));
  EXPECT_EQ(delivered(), "abcxyz");
  EXPECT_EQ(gaps(), 1);
  EXPECT_EQ(table.counters().closed_fin, 1u);
  EXPECT_EQ(table.active_flows(), 0u);
}

TEST_F(ReassemblyTest, ConsumerClaimingTooMuchIsClamped) {
  consumer.extra_consumed = 1000;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "abc"));
  table.on_segment(conn.data(3, "def"));
  EXPECT_EQ(delivered(), "abcdef");
  EXPECT_EQ(gaps(), 0);
}

TEST_F(ReassemblyTest, FarFutureSequenceDoesNotBreakTheFlow) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0x40000000u, "far"));  // hostile or garbage
  table.on_segment(conn.data(0, "near"));
  EXPECT_EQ(delivered(), "near");
  EXPECT_EQ(table.counters().out_of_order_segments, 1u);
  table.flush_all();
  EXPECT_EQ(delivered(), "nearfar");
  EXPECT_EQ(gaps(), 1);
}

TEST_F(ReassemblyTest, TinyOutOfOrderSegmentsHitTheChunkBound) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  // One-byte pieces each after its own hole: bounded by chunk count, not bytes.
  for (std::uint32_t i = 0; i < 200; ++i) table.on_segment(conn.data(2 * i + 1, "x"));
  EXPECT_GE(table.counters().ooo_overflow, 1u);
  EXPECT_GT(table.buffer_bytes_in_use(), 0u);
  EXPECT_LE(table.buffer_bytes_in_use(), 40 * sizeof(Chunk));
  table.flush_all();
  EXPECT_EQ(delivered(), std::string(200, 'x'));
}

}  // namespace
}  // namespace ipattrib::agent

namespace ipattrib::agent {
namespace {

TEST(ReassemblyWithoutBuffersTest, NoBufferMemoryStillDeliversInOrderBytes) {
  FlowConfig config;
  config.max_total_buffer_bytes = 0;
  config.max_out_of_order_bytes = 0;
  config.max_flows = 1;
  testing::RecordingConsumer consumer;
  consumer.head_mode = true;
  testing::Connection conn;
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "GET / HTTP/1.1\r\n\r\nGET /partial"));  // tail cannot be kept
  table.on_segment(conn.data(100, "x\r\n\r\n"));                        // cannot wait for the hole
  EXPECT_EQ(consumer.streams[conn.client_port], "GET / HTTP/1.1\r\n\r\nx\r\n\r\n");
  EXPECT_EQ(table.counters().buffer_pool_exhausted, 1u);
  EXPECT_EQ(consumer.gaps[conn.client_port], 2);
  EXPECT_EQ(table.buffer_bytes_in_use(), 0u);
}

}  // namespace
}  // namespace ipattrib::agent
