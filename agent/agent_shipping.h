// AgentShipping: the agent's path from attributed requests to the collector —
// the Aggregator (per-window records, every access time) feeding the Shipper
// (disk spool, mutual-TLS client, retransmission). Present only when [ship]
// lists collectors; an AccessEventSink placed after geo enrichment.
//
// With one worker the Aggregator is here, fed on the capture thread. With
// several, each worker aggregates its own flows (pipeline/pipeline_worker.h)
// and the capture thread offers their batches here; the spool numbers every
// batch as the single writer, so sequences stay ascending across workers.
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
  // aggregate_here: events come to on_access() (one worker on the capture
  // thread); otherwise only offer() is used. replaying_a_file: a full
  // queue waits for the shipper instead of dropping (nothing to fall behind).
  static Status start(const AgentConfig& config, bool aggregate_here, bool replaying_a_file,
                      std::unique_ptr<AgentShipping>& out);
  // How the config sets up an Aggregator (here, or one per worker).
  static AggregatorOptions aggregator_options(const AgentConfig& config);

  void on_access(const AccessEvent& event) override {
    if (aggregator_ != nullptr) aggregator_->on_access(event);
  }
  // A batch a worker's Aggregator finished (capture thread only: the
  // Shipper's queue has one producer).
  void offer(RecordBatch&& batch) { shipper_->on_batch(std::move(batch)); }
  // Closes aggregation windows that ended before now_ms (wall clock).
  void flush_due(std::int64_t now_ms) {
    if (aggregator_ != nullptr) aggregator_->flush_due(now_ms);
  }
  // For a configuration reload (collector list, TLS files).
  Shipper& shipper() { return *shipper_; }
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
