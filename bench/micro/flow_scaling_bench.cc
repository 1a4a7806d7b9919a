// Flow scaling: the whole packet path (PacketPipeline: decode, flow table,
// reassembly, HTTP parse, attribution, geo cache without databases) on data
// segments spread over 10 k, 100 k and 1 M concurrent flows, uniformly at
// random (the worst case for caches) and round robin. Each segment carries
// one complete small request. FlowScaling{Random,RoundRobin} hand the frames
// over one by one (process), FlowScalingBurst* in bursts of 64 (the agent's
// default [pipeline] burst) through process_burst, which prefetches each
// segment's flow-table bucket and entry a few segments ahead. Reports
// packets/s and the flow table's memory (entries, buckets, chunks) as
// counters; flows stay open, nothing is evicted.
// FlowTableLookup: the flow table alone (no decode, no HTTP) on pure ACKs
// over the same flow counts: lookup plus recency update, the part of the
// per-packet cost that could grow with the number of flows; the Burst
// variant prefetches as process_burst does.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/flow/flow_table.h"
#include "agent/geo/geo_resolver.h"
#include "agent/pipeline/packet_pipeline.h"
#include "bench/micro/synthetic_frame.h"

namespace ipattrib::agent::micro {
namespace {

constexpr std::string_view kRequest = "GET /v1/orders HTTP/1.1\r\nHost: api.example.com\r\nX-Account-Id: acct-1\r\n\r\n";
constexpr std::uint32_t kServer = 0xC000020A;  // 192.0.2.10

class CountingEventSink final : public AccessEventSink {
 public:
  void on_access(const AccessEvent&) override { ++events; }
  std::uint64_t events = 0;
};

constexpr std::size_t kBurst = 64;

// The agent's packet path, with kBurst frame buffers for the burst variants.
struct World {
  explicit World(std::size_t flows) : geo(GeoConfig{}), frames(kBurst), raw(kBurst) {
    (void)geo.open();
    AgentConfig config = default_agent_config();
    config.attribution.class_rules = {};
    add_header_account_rule(config.attribution, "X-Account-Id");
    config.http = HttpConfig{};
    config.flow = FlowConfig{};
    config.flow.max_flows = flows;
    config.geo.cache_entries = 65536;
    config.pipeline.burst = static_cast<int>(kBurst);
    pipeline = std::make_unique<PacketPipeline>(config, geo, sink);
    next_seq.assign(flows, 1001);
    SyntheticFrame& frame = frames[0];
    frame.set_tcp(kTcpSyn, 1000, 0);
    for (std::size_t k = 0; k < flows; ++k) {  // open every flow with its SYN
      frame.set_endpoints(client(k), 40000, kServer, 80);
      pipeline->process(LinkType::kEthernet, frame.frame(++ts));
    }
    for (SyntheticFrame& f : frames) f.set_payload(kRequest);
  }

  static std::uint32_t client(std::size_t k) { return 0x0A000000u + static_cast<std::uint32_t>(k); }

  // Writes the next request of flow k into frame buffer `slot`.
  const RawFrame& request(std::size_t slot, std::size_t k) {
    SyntheticFrame& frame = frames[slot];
    frame.set_endpoints(client(k), 40000, kServer, 80);
    frame.set_tcp(kTcpAck | kTcpPsh, next_seq[k], 1);
    next_seq[k] += static_cast<std::uint32_t>(kRequest.size());
    raw[slot] = frame.frame(++ts);
    return raw[slot];
  }

  const FlowTable& table() const { return pipeline->flows(); }

  GeoResolver geo;
  CountingEventSink sink;
  std::unique_ptr<PacketPipeline> pipeline;
  std::vector<SyntheticFrame> frames;
  std::vector<RawFrame> raw;
  std::vector<std::uint32_t> next_seq;
  std::int64_t ts = 1700000000000000;
};

// One world at a time: building 1 M flows takes a second, so it is kept
// across the benchmark's calls for the same size.
World& world(std::size_t flows) {
  static std::unique_ptr<World> w;
  if (!w || w->next_seq.size() != flows) {
    w.reset();
    w = std::make_unique<World>(flows);
  }
  return *w;
}

// Flow numbers, random or round robin.
struct FlowPicker {
  std::size_t next(bool random, std::size_t flows) {
    if (random) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return k = static_cast<std::size_t>(x % flows);
    }
    if (++k >= flows) k = 0;
    return k;
  }
  std::uint64_t x = 88172645463325252ull;  // xorshift64
  std::size_t k = 0;
};

void run(benchmark::State& state, bool random, bool burst) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  World& w = world(flows);
  const std::uint64_t events_before = w.sink.events;
  FlowPicker pick;
  std::int64_t packets = 0;
  for (auto _ : state) {
    if (burst) {
      for (std::size_t i = 0; i < kBurst; ++i) w.request(i, pick.next(random, flows));
      w.pipeline->process_burst(LinkType::kEthernet, w.raw);
      packets += kBurst;
    } else {
      w.pipeline->process(LinkType::kEthernet, w.request(0, pick.next(random, flows)));
      ++packets;
    }
  }
  const std::uint64_t events = w.sink.events - events_before;
  if (events != static_cast<std::uint64_t>(packets)) state.SkipWithError("requests were lost");
  if (w.table().active_flows() != flows) state.SkipWithError("flows were evicted");
  state.SetItemsProcessed(packets);
  state.counters["flows"] = static_cast<double>(w.table().active_flows());
  state.counters["table_MB"] = static_cast<double>(w.table().memory_bytes()) / (1 << 20);
  state.counters["bytes_per_flow"] = static_cast<double>(w.table().memory_bytes()) / static_cast<double>(flows);
}

// Consumes every byte and opens every flow: the flow table's own cost.
class AcceptingConsumer final : public ClientStreamConsumer {
 public:
  bool is_client_to_server(const PacketView&) const override { return true; }
  bool wants_flow(const FlowEndpoints&) const override { return true; }
  std::size_t on_client_bytes(const FlowEndpoints&, RequestStreamState&, std::span<const std::uint8_t> data,
                              std::int64_t) override {
    return data.size();
  }
  void on_gap(const FlowEndpoints&, RequestStreamState&) override {}
};

struct TableWorld {
  explicit TableWorld(std::size_t n) : flows(n) {
    FlowConfig config;
    config.max_flows = n;
    table = std::make_unique<FlowTable>(config, consumer);
    for (std::size_t k = 0; k < n; ++k) table->on_segment(segment(k, kTcpSyn));
  }

  PacketView segment(std::size_t k, std::uint8_t flags) {
    PacketView view;
    view.ts_us = ++ts;
    view.src = IpAddress::from_v4(World::client(k));
    view.dst = IpAddress::from_v4(kServer);
    view.src_port = 40000;
    view.dst_port = 80;
    view.seq = 1000;
    view.ack = 1;
    view.tcp_flags = flags;
    return view;
  }

  std::size_t flows;
  AcceptingConsumer consumer;
  std::unique_ptr<FlowTable> table;
  std::int64_t ts = 1700000000000000;
};

void run_table(benchmark::State& state, bool random, bool burst) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  static std::unique_ptr<TableWorld> w;
  if (!w || w->flows != flows) {
    w.reset();
    w = std::make_unique<TableWorld>(flows);
  }
  FlowPicker pick;
  std::int64_t packets = 0;
  std::vector<PacketView> views(kBurst);
  std::vector<std::size_t> buckets(kBurst);
  const std::uint64_t untracked_before = w->table->counters().untracked_segments;
  for (auto _ : state) {
    if (!burst) {
      w->table->on_segment(w->segment(pick.next(random, flows), kTcpAck));
      ++packets;
      continue;
    }
    // As PacketPipeline::process_burst: bucket 8 ahead, entry 4 ahead.
    for (std::size_t i = 0; i < kBurst; ++i) views[i] = w->segment(pick.next(random, flows), kTcpAck);
    FlowTable& table = *w->table;
    for (std::size_t i = 0; i < 8; ++i) table.prefetch_bucket(buckets[i] = table.bucket_of(views[i]));
    for (std::size_t i = 0; i < 4; ++i) table.prefetch_entry(buckets[i]);
    for (std::size_t i = 0; i < kBurst; ++i) {
      if (i + 8 < kBurst) table.prefetch_bucket(buckets[i + 8] = table.bucket_of(views[i + 8]));
      if (i + 4 < kBurst) table.prefetch_entry(buckets[i + 4]);
      table.on_segment(views[i]);
    }
    packets += kBurst;
  }
  if (w->table->counters().untracked_segments != untracked_before) state.SkipWithError("flows were lost");
  state.SetItemsProcessed(packets);
  state.counters["table_MB"] = static_cast<double>(w->table->memory_bytes()) / (1 << 20);
}

void BM_FlowScalingRandom(benchmark::State& state) { run(state, true, false); }
void BM_FlowScalingRoundRobin(benchmark::State& state) { run(state, false, false); }
void BM_FlowScalingBurstRandom(benchmark::State& state) { run(state, true, true); }
void BM_FlowScalingBurstRoundRobin(benchmark::State& state) { run(state, false, true); }
BENCHMARK(BM_FlowScalingRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowScalingBurstRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowScalingRoundRobin)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowScalingBurstRoundRobin)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_FlowTableLookupRandom(benchmark::State& state) { run_table(state, true, false); }
void BM_FlowTableLookupRoundRobin(benchmark::State& state) { run_table(state, false, false); }
void BM_FlowTableLookupBurstRandom(benchmark::State& state) { run_table(state, true, true); }
BENCHMARK(BM_FlowTableLookupRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowTableLookupBurstRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowTableLookupRoundRobin)->Arg(10000)->Arg(100000)->Arg(1000000);

}  // namespace
}  // namespace ipattrib::agent::micro
