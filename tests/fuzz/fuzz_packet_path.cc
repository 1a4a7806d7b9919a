// Fuzz target: the whole packet path — decode, flow table and reassembly,
// PROXY + HTTP request-stream parsing, attribution, geo enrichment — through
// one PacketPipeline per input, frame by frame or (selector bit 4) in
// bursts through process_burst and its flow-table prefetch. The input is a frame sequence (see
// frame_sequence.h). The config trusts a proxy (so forwarding headers are
// walked), chains header/path/query/jwt account rules, takes any port, has a
// PROXY-protocol port and, unless the selector asks for roomy bounds, flow
// bounds small enough that eviction, overflow and hole skipping run often.
//
// Besides memory safety (the sink reads every byte each event's views point
// at, so ASan sees dangling views) it aborts when a bound the flow table
// promises is broken, when a counter disagrees with what was fed or emitted,
// or when an event contradicts the config, or when the worker choice's
// fixed-offset parse (frame_flow_hash) disagrees with the decoder.
#include <toml++/toml.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "agent/attribution/access_event.h"
#include "agent/config/agent_config.h"
#include "agent/geo/geo_resolver.h"
#include "agent/decode/packet_decoder.h"
#include "agent/pipeline/flow_hash.h"
#include "agent/pipeline/packet_pipeline.h"
#include "ipattrib/stats_sink.h"
#include "tests/fuzz/frame_sequence.h"

namespace {

using namespace ipattrib::agent;  // NOLINT: test driver
using ipattrib::fuzz::FrameRecord;
using ipattrib::fuzz::FrameSequenceReader;

constexpr std::uint16_t kProxyProtocolPort = 8443;
constexpr std::int64_t kStartUs = 1700000000000000;

constexpr std::string_view kConfigToml = R"(
[http]
ports = "any"
proxy_protocol_ports = [8443]
max_head_bytes = 4096
max_headers = 32

[attribution]
trusted_proxies = ["10.30.0.5/32", "fd00:30::5/128", "10.0.0.0/24"]
client_ip_headers = ["forwarded", "x-forwarded-for", "x-real-ip"]

[[attribution.account]]
type = "header"
name = "X-Account-Id"

[[attribution.account]]
type = "path"
template = "/v1/accounts/{account}/..."

[[attribution.account]]
type = "query"
name = "account"

[[attribution.account]]
type = "jwt"
claim = "account"
principal_claim = "sub"

[[attribution.class]]
methods = ["POST", "DELETE"]
path_prefix = "/admin"
class = "admin"
)";

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_packet_path: invariant broken: %s\n", what);
    std::abort();
  }
}

AgentConfig make_config(bool roomy) {
  const toml::table root = toml::parse(kConfigToml);
  ipattrib::ConfigErrors errors;
  AgentConfig config;
  config.http = parse_http_config(*root["http"].as_table(), errors);
  config.attribution = parse_attribution_config(*root["attribution"].as_table(), errors);
  require(errors.empty(), "the fuzz config parses");
  config.geo.cache_entries = 64;
  config.pipeline.burst = 4;  // smaller than a burst feed: process_burst splits
  if (roomy) {
    config.flow.max_flows = 64;
    config.flow.idle_timeout_s = 30;
  } else {
    // Set directly: the [flow] parser only speaks whole MiB, and a few chunks
    // of pool are what makes memory eviction reachable with four flows.
    config.flow.max_flows = 4;
    config.flow.max_buffered_bytes_per_flow = 512;
    config.flow.max_out_of_order_bytes = 3000;
    config.flow.max_total_buffer_bytes = 8 * ipattrib::agent::Chunk::kBytes;
    config.flow.idle_timeout_s = 2;
  }
  return config;
}

const AgentConfig& config_for(bool roomy) {
  static const AgentConfig tight = make_config(false);
  static const AgentConfig wide = make_config(true);
  return roomy ? wide : tight;
}

const GeoResolver& empty_geo() {
  static GeoResolver* resolver = [] {
    auto* r = new GeoResolver(GeoConfig{});
    require(static_cast<bool>(r->open()), "a resolver without databases opens");
    return r;
  }();
  return *resolver;
}

// Chunks one flow may hold: its unconsumed head plus its out-of-order pieces
// (the table's own per-flow limits, restated from FlowConfig).
std::size_t max_chunks_per_flow(const FlowConfig& flow) {
  const std::size_t data = Chunk::kDataBytes;
  const std::size_t pending = (flow.max_buffered_bytes_per_flow + data - 1) / data;
  const std::size_t pieces = (flow.max_out_of_order_bytes + data - 1) / data;
  const std::size_t out_of_order = 2 * pieces + 2 < 255 ? 2 * pieces + 2 : 255;
  return pending + out_of_order;
}

class CounterSnapshot final : public ipattrib::StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override {
    if (name == "flow.active") active_flows = value;
    if (name == "flow.buffer_bytes_in_use") buffer_bytes = value;
    if (name == "decode.frames") frames = value;
    if (name == "attribution.requests") requests = value;
    if (name.starts_with("flow.") && value > (std::uint64_t{1} << 48)) wrapped = true;
  }

  std::uint64_t active_flows = 0;
  std::uint64_t buffer_bytes = 0;
  std::uint64_t frames = 0;
  std::uint64_t requests = 0;
  bool wrapped = false;  // a counter that went below zero
};

class TouchingSink final : public AccessEventSink {
 public:
  explicit TouchingSink(const AttributionConfig& attribution) : attribution_(attribution) {}

  void on_access(const AccessEvent& event) override {
    ++events;
    touch(event.method);
    touch(event.host);
    touch(event.target);
    touch(event.account);
    touch(event.principal);
    touch(event.geo.as_org);
    require(!event.method.empty(), "a request has a method");
    require(event.has_account || (event.account.empty() && event.principal.empty()),
            "no account means no account or principal text");
    switch (event.ip_source) {
      case IpSource::kSocket:
        require(event.client_ip == event.peer_ip, "a socket client is the peer");
        break;
      case IpSource::kProxyProtocol:
        require(event.server_port == kProxyProtocolPort, "PROXY addresses only on the PROXY port");
        break;
      default:
        if (event.server_port != kProxyProtocolPort) {
          require(attribution_.trusted_proxies.contains(event.peer_ip), "headers are read only from trusted peers");
        }
        break;
    }
  }

  std::uint64_t events = 0;

 private:
  void touch(std::string_view text) {
    for (char c : text) checksum_ = checksum_ * 31 + static_cast<unsigned char>(c);
  }

  const AttributionConfig& attribution_;
  volatile std::uint64_t checksum_ = 0;
};

void check_counters(const PacketPipeline& pipeline, const FlowConfig& flow, std::uint64_t frames_fed,
                    std::uint64_t events) {
  CounterSnapshot snapshot;
  pipeline.report(snapshot);
  require(snapshot.active_flows <= flow.max_flows, "flow.active <= max_flows");
  require(snapshot.buffer_bytes <= flow.max_total_buffer_bytes, "buffered bytes within the table bound");
  require(snapshot.buffer_bytes <= flow.max_flows * max_chunks_per_flow(flow) * Chunk::kBytes,
          "buffered bytes within the per-flow bounds");
  require(snapshot.frames == frames_fed, "decode.frames counts every frame fed");
  require(snapshot.requests == events, "attribution.requests counts every event emitted");
  require(!snapshot.wrapped, "no flow counter wrapped below zero");
}

// The worker choice's fixed-offset parse must agree with the decoder.
void check_flow_hash(LinkType link_type, const RawFrame& frame) {
  PacketView view;
  const bool decodes = decode_tcp_segment(link_type, frame, view) == DecodeResult::kTcpSegment;
  std::uint32_t hash = 0;
  require(frame_flow_hash(link_type, frame, hash) == decodes && (!decodes || hash == symmetric_flow_hash(view)),
          "frame_flow_hash gives the decoder's verdict and endpoints' hash");
}

// Frames handed to process_burst together (the selector chooses how many);
// more than the config's burst, so the pipeline also splits a call.
constexpr std::size_t kMaxFeed = 15;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto link_type = static_cast<LinkType>(data[0] & 0x07);
  const AgentConfig& config = config_for((data[0] & ipattrib::fuzz::kRoomyBoundsFlag) != 0);
  const bool bursts = (data[0] & ipattrib::fuzz::kBurstFlag) != 0;
  const std::size_t feed = bursts ? ipattrib::fuzz::burst_feed(data[0]) : 1;

  TouchingSink sink(config.attribution);
  PacketPipeline pipeline(config, empty_geo(), sink);
  FrameSequenceReader reader(std::span<const std::uint8_t>(data + 1, size - 1));
  std::int64_t now_us = kStartUs;
  std::uint64_t frames = 0;
  std::array<RawFrame, kMaxFeed> pending;
  std::size_t queued = 0;
  const auto hand_over = [&] {
    if (bursts) {
      pipeline.process_burst(link_type, std::span<const RawFrame>(pending.data(), queued));
    } else {
      pipeline.process(link_type, pending[0]);
    }
    frames += queued;
    queued = 0;
    check_counters(pipeline, config.flow, frames, sink.events);
  };
  FrameRecord record;
  while (reader.next(record)) {
    now_us += record.time_steps * ipattrib::fuzz::kTimeStepUs;
    RawFrame& frame = pending[queued++];
    frame.ts_us = now_us;
    frame.data = record.bytes;  // views into the input: valid until it returns
    frame.wire_length = static_cast<std::uint32_t>(record.bytes.size()) + (record.snap_cut ? 100u : 0u);
    check_flow_hash(link_type, frame);
    if (queued == feed) hand_over();
  }
  if (queued > 0) hand_over();
  pipeline.finish();
  check_counters(pipeline, config.flow, frames, sink.events);

  CounterSnapshot last;
  pipeline.report(last);
  require(last.active_flows == 0, "finish() closes every flow");
  require(last.buffer_bytes == 0, "finish() releases every buffer");
  return 0;
}
