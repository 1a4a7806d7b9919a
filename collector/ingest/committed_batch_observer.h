// CommittedBatchObserver: work that must follow, exactly once, every batch
// the ledger committed — the special-measures evaluation. It keeps its own
// per-agent watermark so that a crash between the ledger's commit and the
// observer's is repaired by the agent's retransmission: the ingest session
// decodes a batch the ledger already holds when it is above the observer's
// watermark, and acknowledges only after both are durable.
#pragma once

#include <cstdint>
#include <string>

#include "ipattrib/attribution_record.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

class CommittedBatchObserver {
 public:
  virtual ~CommittedBatchObserver() = default;
  // Highest sequence of the agent fully handled, 0 if none.
  virtual Status handled_sequence(const std::string& agent_id, std::uint64_t& sequence) = 0;
  // The ledger holds `batch`; returns once the observer's effect is durable.
  // Must be idempotent per (agent, sequence): two connections of one agent
  // may race.
  virtual Status on_committed(const RecordBatch& batch) = 0;
};

}  // namespace ipattrib::collector
