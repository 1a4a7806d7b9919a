// AgentShipping: the agent's path from attributed requests to the collector —
// the Aggregator (per-window records, every access time) feeding the Shipper
// (disk spool, mutual-TLS client, retransmission). Present only when [ship]
// lists collectors; an AccessEventSink placed after geo enrichment.
#pragma once

#include <chrono>
#include <memory>

#include "agent/attribution/access_event.h"
#include "agent/config/agent_config.h"
#include "agent/ship/aggregator.h"
#include "agent/ship/shipper.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

class AgentShipping final : public AccessEventSink {
 public:
  // Opens the spool and the collector client and starts the shipper thread.
  static Status start(const AgentConfig& config, std::unique_ptr<AgentShipping>& out);

  void on_access(const AccessEvent& event) override { aggregator_->on_access(event); }
  // Closes aggregation windows that ended before now_ms (wall clock).
  void flush_due(std::int64_t now_ms) { aggregator_->flush_due(now_ms); }
  // SIGTERM / end of input: flush every window, then give the shipper
  // drain_timeout to have the collector acknowledge; the rest stays spooled.
  void finish(std::chrono::milliseconds drain_timeout);
  void report(StatsSink& sink) const;

 private:
  explicit AgentShipping(std::unique_ptr<Shipper> shipper) : shipper_(std::move(shipper)) {}

  std::unique_ptr<Shipper> shipper_;
  std::unique_ptr<Aggregator> aggregator_;
};

}  // namespace ipattrib::agent
