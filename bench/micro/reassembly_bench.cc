// Reassembly: FlowTable::on_segment for one client stream — in order (handed
// straight from the packet), with the consumer keeping an unfinished tail
// (copied into chunks and joined with the next segment), and with every
// pair of segments swapped (buffered past a hole, then drained).
#include <benchmark/benchmark.h>

#include <vector>

#include "agent/flow/flow_table.h"

namespace ipattrib::agent::micro {
namespace {

// Consumes everything but the last `keep` bytes of each delivery.
class TailKeepingConsumer final : public ClientStreamConsumer {
 public:
  explicit TailKeepingConsumer(std::size_t keep) : keep_(keep) {}
  bool is_client_to_server(const PacketView&) const override { return true; }
  bool wants_flow(const FlowEndpoints&) const override { return true; }
  std::size_t on_client_bytes(const FlowEndpoints&, RequestStreamState&, std::span<const std::uint8_t> data,
                              std::int64_t) override {
    bytes += data.size();
    return data.size() > keep_ ? data.size() - keep_ : 0;
  }
  void on_gap(const FlowEndpoints&, RequestStreamState&) override { ++gaps; }
  std::uint64_t bytes = 0;
  std::uint64_t gaps = 0;

 private:
  std::size_t keep_;
};

enum class Order { kInOrder, kSwappedPairs };

void run(benchmark::State& state, Order order, std::size_t keep) {
  const std::size_t segment_bytes = static_cast<std::size_t>(state.range(0));
  TailKeepingConsumer consumer(keep);
  FlowConfig config;
  FlowTable table(config, consumer);
  std::vector<std::uint8_t> payload(segment_bytes, 'x');
  PacketView view;
  view.src = IpAddress::from_v4(0xC6120001);
  view.dst = IpAddress::from_v4(0xC000020A);
  view.src_port = 40000;
  view.dst_port = 80;
  view.tcp_flags = kTcpSyn;
  view.seq = 999;
  table.on_segment(view);  // opens the flow; data starts at 1000
  view.tcp_flags = kTcpAck | kTcpPsh;
  view.payload = payload;
  std::uint32_t seq = 1000;
  std::int64_t ts = 1;
  for (auto _ : state) {
    if (order == Order::kInOrder) {
      view.seq = seq;
      view.ts_us = ++ts;
      table.on_segment(view);
    } else {
      view.seq = seq + static_cast<std::uint32_t>(segment_bytes);
      view.ts_us = ++ts;
      table.on_segment(view);
      view.seq = seq;
      table.on_segment(view);
      seq += static_cast<std::uint32_t>(segment_bytes);
    }
    seq += static_cast<std::uint32_t>(segment_bytes);
  }
  if (consumer.gaps != 0) state.SkipWithError("reassembly reported a gap");
  const std::int64_t segments = state.iterations() * (order == Order::kInOrder ? 1 : 2);
  state.SetItemsProcessed(segments);
  state.SetBytesProcessed(segments * static_cast<std::int64_t>(segment_bytes));
}

void BM_ReassemblyInOrder(benchmark::State& state) { run(state, Order::kInOrder, 0); }
void BM_ReassemblyKeepTail(benchmark::State& state) { run(state, Order::kInOrder, 200); }
void BM_ReassemblySwappedPairs(benchmark::State& state) { run(state, Order::kSwappedPairs, 0); }
BENCHMARK(BM_ReassemblyInOrder)->Arg(100)->Arg(1400);
BENCHMARK(BM_ReassemblyKeepTail)->Arg(1400);
BENCHMARK(BM_ReassemblySwappedPairs)->Arg(1400);

}  // namespace
}  // namespace ipattrib::agent::micro
