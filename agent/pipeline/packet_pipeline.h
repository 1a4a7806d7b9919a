// PacketPipeline: one worker's packet path, wired in order — decode, flow
// table with client-stream reassembly, HTTP request-stream parsing,
// attribution, geo enrichment — ending in an AccessEventSink. Owns all of its
// state; nothing is shared with other pipelines (one per worker thread).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "agent/attribution/attributor.h"
#include "agent/capture/packet_source.h"
#include "agent/config/agent_config.h"
#include "agent/decode/packet_decoder.h"
#include "agent/flow/flow_table.h"
#include "agent/pipeline/geo_enricher.h"
#include "agent/http/request_stream_parser.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class PacketPipeline {
 public:
  // `geo` may hold no databases; `out` receives every attributed request.
  PacketPipeline(const AgentConfig& config, const GeoResolver& geo, AccessEventSink& out);

  void process(LinkType link_type, const RawFrame& frame);
  // The same for consecutive frames, in order, with the same events and
  // counters as process() on each: decodes up to [pipeline] burst frames at
  // a time, then runs the flow table on each segment while prefetching the
  // flow-table bucket and then the entry of the segments a few positions
  // ahead, so their cache misses overlap instead of following one another.
  // The frames must stay valid for the call.
  void process_burst(LinkType link_type, std::span<const RawFrame> frames);
  // End of input (offline file) or shutdown: deliver what is still buffered.
  void finish();
  void report(StatsSink& sink) const;
  const FlowTable& flows() const { return flows_; }  // memory figures (benchmarks)

 private:
  // `bucket` is flows_.bucket_of(view), taken once per segment.
  void on_segment(const PacketView& view, std::size_t bucket);

  GeoEnricher geo_;
  Attributor attributor_;
  RequestStreamParser http_;
  FlowTable flows_;
  PacketDecoder decoder_;
  std::int64_t next_expiry_us_ = 0;
  // process_burst's decoded segments and their bucket numbers, sized once.
  std::vector<PacketView> views_;
  std::vector<std::size_t> buckets_;
};

}  // namespace ipattrib::agent
