// Attributor: the RequestSink at the end of HTTP parsing. For every request
// head it finds the client IP, the account (and principal) and the access
// class, and hands the resulting AccessEvent to the next stage. One per
// worker: it owns the scratch buffers the event's derived strings live in.
#pragma once

#include <array>
#include <cstdint>

#include "agent/attribution/access_class_rules.h"
#include "agent/attribution/access_event.h"
#include "agent/attribution/account_rules.h"
#include "agent/attribution/attribution_config.h"
#include "agent/attribution/client_ip_resolver.h"
#include "agent/http/request_sink.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class Attributor final : public RequestSink {
 public:
  // Copies what it needs from `config`; `out` must outlive the Attributor.
  Attributor(const AttributionConfig& config, AccessEventSink& out);

  void on_request(const RequestContext& context, const RequestHead& head) override;
  // When the connection's peer is not a trusted proxy it is the client:
  // passes it on as AccessEventSink::upcoming_client.
  void upcoming_request(const RequestContext& context) override;

  // attribution.requests, attribution.no_account, attribution.no_endpoints,
  // attribution.admin, attribution.client_ip_from_<source>, and the counters of
  // ClientIpResolver and AccountRules.
  void report(StatsSink& sink) const;

 private:
  ClientIpResolver client_ip_;
  AccountRules accounts_;
  AccessClassRules classes_;
  AccessEventSink& out_;
  std::uint64_t requests_ = 0;
  std::uint64_t no_account_ = 0;
  std::uint64_t no_endpoints_ = 0;
  std::uint64_t admin_ = 0;
  std::array<std::uint64_t, 5> by_source_{};  // indexed by IpSource
};

}  // namespace ipattrib::agent
