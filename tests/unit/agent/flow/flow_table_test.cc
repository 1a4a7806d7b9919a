// Flow tracking: direction, lifecycle, eviction and the memory bounds.
#include "agent/flow/flow_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/unit/agent/flow/flow_test_support.h"

namespace ipattrib::agent {
namespace {

using testing::Connection;
using testing::RecordingConsumer;

class CounterMap : public StatsSink {
 public:
  std::map<std::string, std::uint64_t, std::less<>> values;
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
};

Connection connection(std::uint32_t n) {
  Connection c;
  c.client = IpAddress::from_v4(0x0a000000u + (n >> 14));
  c.client_port = static_cast<std::uint16_t>(1024 + (n & 0x3fff));
  c.client_isn = n * 7919u;
  return c;
}

class FlowTableTest : public ::testing::Test {
 protected:
  FlowConfig config;
  RecordingConsumer consumer;
  Connection conn;
};

TEST_F(FlowTableTest, BothDirectionsFindOneFlowAndServerPayloadIsSkipped) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.syn_ack());
  table.on_segment(conn.data(0, "GET / HTTP/1.1\r\n\r\n"));
  table.on_segment(conn.from_server(conn.server_isn + 1, "HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_EQ(table.active_flows(), 1u);
  EXPECT_EQ(table.counters().created, 1u);
  EXPECT_EQ(consumer.streams[conn.client_port], "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(table.counters().server_bytes_skipped, 19u);
}

TEST_F(FlowTableTest, SynAckAloneMakesItsReceiverTheClient) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn_ack());
  ASSERT_EQ(table.active_flows(), 1u);
  table.on_segment(conn.data(0, "abc"));
  EXPECT_EQ(consumer.streams[conn.client_port], "abc");
}

TEST_F(FlowTableTest, UnwantedSynCreatesNothing) {
  FlowTable table(config, consumer);
  conn.server_port = 22;
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "SSH-2.0"));
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().not_wanted, 1u);
  EXPECT_EQ(table.counters().undecided_segments, 1u);
}

TEST_F(FlowTableTest, MidStreamFlowIsOpenedByTheConsumersDecision) {
  FlowTable table(config, consumer);
  table.on_segment(conn.from_server(9000, "HTTP/1.1 200 OK\r\n\r\n"));  // not client->server
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().undecided_segments, 1u);
  table.on_segment(conn.from_client(123456, "", kTcpAck));  // pure ACK opens nothing
  EXPECT_EQ(table.counters().untracked_segments, 1u);
  table.on_segment(conn.from_client(123456, "GET /a HTTP/1.1\r\n\r\n"));
  table.on_segment(conn.from_client(123456 + 19, "GET /b HTTP/1.1\r\n\r\n"));
  table.on_segment(conn.from_server(9019, "HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_EQ(table.active_flows(), 1u);
  EXPECT_EQ(consumer.streams[conn.client_port], "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
}

TEST_F(FlowTableTest, SynWithPayloadIsDelivered) {
  FlowTable table(config, consumer);
  table.on_segment(conn.from_client(conn.client_isn, "GET", kTcpSyn));
  table.on_segment(conn.data(3, " /"));
  EXPECT_EQ(consumer.streams[conn.client_port], "GET /");
}

TEST_F(FlowTableTest, DuplicateSynKeepsTheFlowAndNewIsnReplacesIt) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "ab"));
  table.on_segment(conn.syn());
  EXPECT_EQ(table.counters().created, 1u);
  conn.client_isn += 0x10000000;
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "cd"));
  EXPECT_EQ(table.counters().created, 2u);
  EXPECT_EQ(table.counters().closed_reused, 1u);
  EXPECT_EQ(consumer.streams[conn.client_port], "abcd");
}

TEST_F(FlowTableTest, RstClosesAndDropsBufferedBytes) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(5, "later"));
  EXPECT_GT(table.buffer_bytes_in_use(), 0u);
  table.on_segment(conn.from_server(conn.server_isn + 1, "", kTcpRst));
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().closed_rst, 1u);
  EXPECT_EQ(table.counters().dropped_buffered_bytes, 5u);
  EXPECT_EQ(table.buffer_bytes_in_use(), 0u);
  EXPECT_EQ(consumer.streams[conn.client_port], "");
}

TEST_F(FlowTableTest, ServerFinClosesTheFlow) {
  FlowTable table(config, consumer);
  table.on_segment(conn.syn());
  table.on_segment(conn.data(0, "x"));
  table.on_segment(conn.from_server(conn.server_isn + 1, "", kTcpFin | kTcpAck));
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().closed_fin, 1u);
}

TEST_F(FlowTableTest, IdleFlowsExpireByPacketTime) {
  config.idle_timeout_s = 30;
  FlowTable table(config, consumer);
  Connection a = connection(1);
  Connection b = connection(2);
  table.on_segment(a.syn(1'000'000));
  table.on_segment(b.syn(20'000'000));
  table.expire(31'000'000);
  EXPECT_EQ(table.active_flows(), 2u);
  table.expire(32'000'000);
  EXPECT_EQ(table.active_flows(), 1u);
  EXPECT_EQ(table.counters().expired_idle, 1u);
  table.on_segment(b.data(0, "keepalive", 45'000'000));
  table.expire(70'000'000);
  EXPECT_EQ(table.active_flows(), 1u);
  table.expire(80'000'000);
  EXPECT_EQ(table.active_flows(), 0u);
}

// Packets more than a recency tick (idle_timeout / 16 = 7.5 s by default)
// apart: at that resolution eviction is exactly least recently used.
TEST_F(FlowTableTest, FullTableEvictsTheLeastRecentlyUsedFlow) {
  config.max_flows = 4;
  FlowTable table(config, consumer);
  constexpr std::int64_t kApart = 10'000'000;
  for (std::uint32_t i = 0; i < 4; ++i) table.on_segment(connection(i).syn(i * kApart));
  table.on_segment(connection(0).data(0, "a", 4 * kApart));  // flow 1 is now the oldest
  table.on_segment(connection(4).syn(5 * kApart));
  EXPECT_EQ(table.active_flows(), 4u);
  EXPECT_EQ(table.counters().evicted_table_full, 1u);
  table.on_segment(connection(0).data(1, "b", 6 * kApart));  // still tracked: delivered in order
  EXPECT_EQ(consumer.streams[connection(0).client_port], "ab");
  EXPECT_EQ(table.counters().created, 5u);
  table.on_segment(connection(1).data(0, "c", 7 * kApart));  // evicted: comes back as a new flow
  EXPECT_EQ(table.counters().created, 6u);
  EXPECT_EQ(table.counters().evicted_table_full, 2u);
}

// Within one tick of being put at the newest end a flow keeps its place:
// that is what spares a busy flow the list update on every packet.
TEST_F(FlowTableTest, EvictionOrderIsLeastRecentlyUsedToWithinOneTick) {
  config.max_flows = 4;
  config.idle_timeout_s = 16;  // tick 1 s
  FlowTable table(config, consumer);
  for (std::uint32_t i = 0; i < 4; ++i) table.on_segment(connection(i).syn(i * 100'000));
  table.on_segment(connection(0).data(0, "a", 500'000));  // 0.5 s after its SYN: stays oldest
  table.on_segment(connection(4).syn(600'000));
  EXPECT_EQ(table.counters().evicted_table_full, 1u);
  table.on_segment(connection(0).data(1, "b", 700'000));  // flow 0 was the one evicted
  EXPECT_EQ(table.counters().created, 6u);
  EXPECT_EQ(table.counters().evicted_table_full, 2u);  // ... and took flow 1's place
  table.on_segment(connection(2).data(0, "c", 1'300'000));  // 1.1 s after its SYN: moves
  table.on_segment(connection(5).syn(1'400'000));           // evicts flow 3, not flow 2
  table.on_segment(connection(2).data(1, "d", 1'500'000));
  EXPECT_EQ(consumer.streams[connection(2).client_port], "cd");
  EXPECT_EQ(table.counters().created, 7u);
  EXPECT_EQ(table.counters().evicted_table_full, 3u);
}

// A flow is never expired before its idle timeout and always by one tick
// after it, however its packets fall relative to the tick.
TEST_F(FlowTableTest, IdleExpiryIsLateByLessThanOneTickAndNeverEarly) {
  config.idle_timeout_s = 16;  // tick 1 s
  FlowTable table(config, consumer);
  const Connection busy = connection(1);
  const Connection quiet = connection(2);
  table.on_segment(busy.syn(0));
  table.on_segment(quiet.syn(500'000));
  std::uint32_t offset = 0;
  std::int64_t quiet_expired_at = -1;
  for (std::int64_t t = 250'000; t <= 40'000'000; t += 250'000) {
    table.on_segment(busy.data(offset++, "x", t));
    table.expire(t);
    if (quiet_expired_at < 0 && table.counters().expired_idle == 1) quiet_expired_at = t;
    ASSERT_LE(table.counters().expired_idle, 1u) << "the busy flow was expired at " << t;
  }
  EXPECT_GE(quiet_expired_at, 500'000 + 16'000'000);
  EXPECT_LE(quiet_expired_at, 500'000 + 17'000'000);
  EXPECT_EQ(table.active_flows(), 1u);
  EXPECT_EQ(consumer.streams[busy.client_port].size(), offset);
}

// The flow at the idle end may have been touched since it was listed; the
// flows behind it are still expired within one tick.
TEST_F(FlowTableTest, ARecentlyTouchedFlowAtTheIdleEndDelaysExpiryByLessThanOneTick) {
  config.idle_timeout_s = 16;  // tick 1 s
  FlowTable table(config, consumer);
  const Connection first = connection(1);
  const Connection second = connection(2);
  table.on_segment(first.syn(0));
  table.on_segment(second.syn(500'000));
  table.on_segment(first.data(0, "x", 900'000));  // within the tick: first stays at the idle end
  table.expire(16'490'000);                        // nobody idle for 16 s yet
  EXPECT_EQ(table.active_flows(), 2u);
  table.expire(16'600'000);  // second is idle 16.1 s but sits behind first
  EXPECT_EQ(table.active_flows(), 2u);
  table.expire(17'000'000);  // first idle 16.1 s, second 16.5 s: both gone
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().expired_idle, 2u);
}

TEST_F(FlowTableTest, FlushAllDeliversAndCloses) {
  FlowTable table(config, consumer);
  Connection a = connection(10);
  table.on_segment(a.syn());
  table.on_segment(a.data(4, "tail"));
  table.flush_all();
  EXPECT_EQ(table.active_flows(), 0u);
  EXPECT_EQ(table.counters().closed_flush, 1u);
  EXPECT_EQ(consumer.streams[a.client_port], "tail");
  EXPECT_EQ(consumer.gaps[a.client_port], 1);
}

TEST_F(FlowTableTest, BufferMemoryStaysWithinTheBoundUnderManyUnfinishedHeads) {
  consumer.head_mode = true;
  config.max_flows = 200000;
  config.max_total_buffer_bytes = 1 << 20;
  FlowTable table(config, consumer);
  const std::string partial = "GET /unfinished HTTP/1.1\r\nHost: example\r\n";
  for (std::uint32_t i = 0; i < 100000; ++i) {
    const Connection c = connection(i);
    table.on_segment(c.syn());
    table.on_segment(c.data(0, partial));
    table.on_segment(c.data(static_cast<std::uint32_t>(partial.size()) + 100, "after a hole"));
    ASSERT_LE(table.buffer_bytes_in_use(), config.max_total_buffer_bytes);
  }
  EXPECT_EQ(table.active_flows(), 100000u);
  EXPECT_GT(table.counters().evicted_for_memory, 90000u);
  EXPECT_EQ(table.counters().buffer_pool_exhausted, 0u);
  const std::size_t fixed = 200000 * sizeof(FlowEntry) + (1u << 18) * 4 + (1u << 20) + (1u << 20);
  EXPECT_LE(table.memory_bytes(), fixed);
  CounterMap stats;
  table.report(stats);
  EXPECT_EQ(stats.values["flow.active"], 100000u);
  EXPECT_EQ(stats.values["flow.evicted_for_memory"], table.counters().evicted_for_memory);
  EXPECT_LE(stats.values["flow.buffer_bytes_in_use"], config.max_total_buffer_bytes);
  // The newest flow kept its buffers and still completes.
  const Connection last = connection(99999);
  const auto size = static_cast<std::uint32_t>(partial.size());
  const int gaps_before = consumer.gaps[last.client_port];  // ports repeat across client addresses
  table.on_segment(last.data(size, std::string(100, 'p')));
  table.on_segment(last.data(size + 112, "\r\n\r\n"));
  EXPECT_EQ(consumer.streams[last.client_port], partial + std::string(100, 'p') + "after a hole\r\n\r\n");
  EXPECT_EQ(consumer.gaps[last.client_port], gaps_before);
}

TEST_F(FlowTableTest, AMillionFlowsFitInTheReportedMemory) {
  config.max_flows = 1 << 20;
  FlowTable table(config, consumer);
  constexpr std::uint32_t kFlows = 1'000'000;
  for (std::uint32_t i = 0; i < kFlows; ++i) table.on_segment(connection(i).syn());
  EXPECT_EQ(table.active_flows(), kFlows);
  EXPECT_EQ(table.counters().evicted_table_full, 0u);
  const std::size_t per_flow = table.memory_bytes() / kFlows;
  EXPECT_LE(per_flow, 170u) << "bytes per flow";
  table.on_segment(connection(123457).data(0, "hello"));
  EXPECT_EQ(consumer.streams[connection(123457).client_port], "hello");
  EXPECT_EQ(table.counters().created, kFlows);
}

}  // namespace
}  // namespace ipattrib::agent
