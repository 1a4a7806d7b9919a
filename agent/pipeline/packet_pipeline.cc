#include "agent/pipeline/packet_pipeline.h"

namespace ipattrib::agent {
namespace {

// Idle flows are expired on packet time, at most this often.
constexpr std::int64_t kExpiryIntervalUs = 1000000;

}  // namespace

PacketPipeline::PacketPipeline(const AgentConfig& config, const GeoResolver& geo, AccessEventSink& out)
    : geo_(geo, static_cast<std::uint32_t>(config.geo.cache_entries), out),
      attributor_(config.attribution, geo_),
      http_(config.http, attributor_),
      flows_(config.flow, http_) {}

void PacketPipeline::process(LinkType link_type, const RawFrame& frame) {
  PacketView view;
  if (!decoder_.decode(link_type, frame, view)) return;
  flows_.on_segment(view);
  if (view.ts_us >= next_expiry_us_) {
    flows_.expire(view.ts_us);
    next_expiry_us_ = view.ts_us + kExpiryIntervalUs;
  }
}

void PacketPipeline::finish() { flows_.flush_all(); }

void PacketPipeline::report(StatsSink& sink) const {
  decoder_.report(sink);
  flows_.report(sink);
  http_.report(sink);
  attributor_.report(sink);
  geo_.report(sink);
}

}  // namespace ipattrib::agent
