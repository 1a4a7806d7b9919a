#include "agent/pipeline/packet_pipeline.h"

#include <algorithm>

namespace ipattrib::agent {
namespace {

// Idle flows are expired on packet time, at most this often.
constexpr std::int64_t kExpiryIntervalUs = 1000000;

// process_burst: a segment's bucket is prefetched this many segments before
// the flow table runs on it, its entry half as many (the bucket, read to
// find the entry, has arrived by then).
constexpr std::size_t kBucketAhead = 8;
constexpr std::size_t kEntryAhead = 4;

}  // namespace

PacketPipeline::PacketPipeline(const AgentConfig& config, const GeoResolver& geo, AccessEventSink& out)
    : geo_(geo, static_cast<std::uint32_t>(config.geo.cache_entries), out),
      attributor_(config.attribution, geo_),
      http_(config.http, attributor_),
      flows_(config.flow, http_),
      views_(static_cast<std::size_t>(std::max(1, config.pipeline.burst))),
      buckets_(views_.size()) {}

void PacketPipeline::process(LinkType link_type, const RawFrame& frame) {
  PacketView view;
  if (!decoder_.decode(link_type, frame, view)) return;
  on_segment(view, flows_.bucket_of(view));
}

void PacketPipeline::process_burst(LinkType link_type, std::span<const RawFrame> frames) {
  while (!frames.empty()) {
    const std::size_t take = std::min(frames.size(), views_.size());
    std::size_t n = 0;
    for (std::size_t i = 0; i < take; ++i) {
      if (decoder_.decode(link_type, frames[i], views_[n])) ++n;
    }
    frames = frames.subspan(take);
    // Two stages ahead of the segment being processed: bucket, then entry.
    const std::size_t lead = std::min(n, kBucketAhead);
    for (std::size_t i = 0; i < lead; ++i) {
      buckets_[i] = flows_.bucket_of(views_[i]);
      flows_.prefetch_bucket(buckets_[i]);
    }
    for (std::size_t i = 0; i < std::min(n, kEntryAhead); ++i) flows_.prefetch_entry(buckets_[i]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kBucketAhead < n) {
        buckets_[i + kBucketAhead] = flows_.bucket_of(views_[i + kBucketAhead]);
        flows_.prefetch_bucket(buckets_[i + kBucketAhead]);
      }
      if (i + kEntryAhead < n) flows_.prefetch_entry(buckets_[i + kEntryAhead]);
      on_segment(views_[i], buckets_[i]);
    }
  }
}

void PacketPipeline::on_segment(const PacketView& view, std::size_t bucket) {
  flows_.on_segment(view, bucket);
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
