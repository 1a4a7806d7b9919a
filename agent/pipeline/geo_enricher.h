// GeoEnricher: the pipeline stage between attribution and output — fills an
// AccessEvent's geo fields from the worker's GeoCache and passes it on.
#pragma once

#include "agent/attribution/access_event.h"
#include "agent/geo/geo_cache.h"

namespace ipattrib::agent {

class GeoEnricher final : public AccessEventSink {
 public:
  GeoEnricher(const GeoResolver& resolver, std::uint32_t cache_entries, AccessEventSink& out)
      : cache_(resolver, cache_entries), out_(out) {}

  void on_access(const AccessEvent& event) override {
    AccessEvent enriched = event;
    cache_.enrich(enriched.client_ip, enriched.geo);
    out_.on_access(enriched);
  }
  void upcoming_client(const IpAddress& client_ip) override { cache_.prefetch(client_ip); }
  void report(StatsSink& sink) const { cache_.stats().report(sink); }

 private:
  GeoCache cache_;
  AccessEventSink& out_;
};

}  // namespace ipattrib::agent
