// Flow scaling: the whole packet path (decode, flow table, reassembly, HTTP
// parse, attribution, geo cache without databases) on data segments spread
// over 10 k, 100 k and 1 M concurrent flows, uniformly at random (the worst
// case for caches) and round robin. Each segment carries one complete small
// request. Reports packets/s and the flow table's memory (entries, buckets,
// chunks) as counters; flows stay open, nothing is evicted.
// FlowTableLookup: the flow table alone (no decode, no HTTP) on pure ACKs
// over the same flow counts: lookup plus recency update, the part of the
// per-packet cost that could grow with the number of flows.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "agent/attribution/attributor.h"
#include "agent/decode/packet_decoder.h"
#include "agent/flow/flow_table.h"
#include "agent/geo/geo_resolver.h"
#include "agent/http/request_stream_parser.h"
#include "agent/pipeline/geo_enricher.h"
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

// The agent's packet path, wired as PacketPipeline wires it, with the flow
// table in reach for its memory figures.
struct World {
  explicit World(std::size_t flows) : geo(GeoConfig{}) {
    (void)geo.open();
    attribution_config.class_rules = {};
    add_header_account_rule(attribution_config, "X-Account-Id");
    flow_config.max_flows = flows;
    enricher = std::make_unique<GeoEnricher>(geo, 65536, sink);
    attributor = std::make_unique<Attributor>(attribution_config, *enricher);
    http = std::make_unique<RequestStreamParser>(http_config, *attributor);
    table = std::make_unique<FlowTable>(flow_config, *http);
    next_seq.assign(flows, 1001);
    frame.set_tcp(kTcpSyn, 1000, 0);
    for (std::size_t k = 0; k < flows; ++k) {  // open every flow with its SYN
      frame.set_endpoints(client(k), 40000, kServer, 80);
      process(frame.frame(++ts));
    }
    frame.set_payload(kRequest);
  }

  static std::uint32_t client(std::size_t k) { return 0x0A000000u + static_cast<std::uint32_t>(k); }

  void process(const RawFrame& raw) {
    PacketView view;
    if (!decoder.decode(LinkType::kEthernet, raw, view)) return;
    table->on_segment(view);
    if (view.ts_us >= next_expiry_us) {
      table->expire(view.ts_us);
      next_expiry_us = view.ts_us + 1000000;
    }
  }

  void send_request(std::size_t k) {
    frame.set_endpoints(client(k), 40000, kServer, 80);
    frame.set_tcp(kTcpAck | kTcpPsh, next_seq[k], 1);
    next_seq[k] += static_cast<std::uint32_t>(kRequest.size());
    process(frame.frame(++ts));
  }

  GeoResolver geo;
  AttributionConfig attribution_config;
  HttpConfig http_config;
  FlowConfig flow_config;
  CountingEventSink sink;
  std::unique_ptr<GeoEnricher> enricher;
  std::unique_ptr<Attributor> attributor;
  std::unique_ptr<RequestStreamParser> http;
  std::unique_ptr<FlowTable> table;
  PacketDecoder decoder;
  SyntheticFrame frame;
  std::vector<std::uint32_t> next_seq;
  std::int64_t ts = 1700000000000000;
  std::int64_t next_expiry_us = 0;
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

void run(benchmark::State& state, bool random) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  World& w = world(flows);
  const std::uint64_t events_before = w.sink.events;
  std::uint64_t x = 88172645463325252ull;  // xorshift64
  std::size_t k = 0;
  for (auto _ : state) {
    if (random) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      k = static_cast<std::size_t>(x % flows);
    } else if (++k == flows) {
      k = 0;
    }
    w.send_request(k);
  }
  const std::uint64_t events = w.sink.events - events_before;
  if (events != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("requests were lost");
  if (w.table->active_flows() != flows) state.SkipWithError("flows were evicted");
  state.SetItemsProcessed(state.iterations());
  state.counters["flows"] = static_cast<double>(w.table->active_flows());
  state.counters["table_MB"] = static_cast<double>(w.table->memory_bytes()) / (1 << 20);
  state.counters["bytes_per_flow"] = static_cast<double>(w.table->memory_bytes()) / static_cast<double>(flows);
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

void run_table(benchmark::State& state, bool random) {
  const auto flows = static_cast<std::size_t>(state.range(0));
  static std::unique_ptr<TableWorld> w;
  if (!w || w->flows != flows) {
    w.reset();
    w = std::make_unique<TableWorld>(flows);
  }
  std::uint64_t x = 88172645463325252ull;
  std::size_t k = 0;
  const std::uint64_t untracked_before = w->table->counters().untracked_segments;
  for (auto _ : state) {
    if (random) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      k = static_cast<std::size_t>(x % flows);
    } else if (++k == flows) {
      k = 0;
    }
    w->table->on_segment(w->segment(k, kTcpAck));
  }
  if (w->table->counters().untracked_segments != untracked_before) state.SkipWithError("flows were lost");
  state.SetItemsProcessed(state.iterations());
  state.counters["table_MB"] = static_cast<double>(w->table->memory_bytes()) / (1 << 20);
}

void BM_FlowScalingRandom(benchmark::State& state) { run(state, true); }
void BM_FlowScalingRoundRobin(benchmark::State& state) { run(state, false); }
BENCHMARK(BM_FlowScalingRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowScalingRoundRobin)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_FlowTableLookupRandom(benchmark::State& state) { run_table(state, true); }
void BM_FlowTableLookupRoundRobin(benchmark::State& state) { run_table(state, false); }
BENCHMARK(BM_FlowTableLookupRandom)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_FlowTableLookupRoundRobin)->Arg(10000)->Arg(100000)->Arg(1000000);

}  // namespace
}  // namespace ipattrib::agent::micro
