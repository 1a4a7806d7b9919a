// IngestSession: the collector's side of one authenticated agent connection
// (docs/protocol.md 6): HELLO checked against the certificate identity, then
// BATCH after BATCH applied to the ledger exactly once and acknowledged only
// after the commit. One frame is handled at a time — the socket is not read
// while a batch is being committed, which is the backpressure on the agent.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "collector/ingest/committed_batch_observer.h"
#include "collector/ingest/ingest_config.h"
#include "collector/ingest/ingest_counters.h"
#include "collector/ledger/ledger_store.h"
#include "common/tls/frame_stream.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/wire/control_messages.h"
#include "ipattrib/wire/frame.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::collector {

struct IngestSessionSettings {
  std::vector<std::string> allowed_agents;
  wire::WireLimits limits;
  std::uint32_t idle_timeout_ms = 300'000;
  std::uint32_t write_timeout_ms = 30'000;
  std::uint32_t linger_ms = 1000;
  CommittedBatchObserver* observer = nullptr;  // optional; outlives the sessions
};

class IngestSession {
 public:
  // `peer` names the remote end in logs. `stopping` is polled between frames.
  IngestSession(tls::FrameStream& stream, LedgerStore& store, const IngestSessionSettings& settings,
                IngestCounters& counters, const std::atomic<bool>& stopping, std::string peer);

  // Runs the connection to its end and closes it.
  void run();

 private:
  enum class Next { kContinue, kClose };

  // Picks the certificate identity on the allow-list; false (ERROR sent) if none.
  bool authenticate_certificate();
  // Reads one frame, waiting in slices so stop() is noticed; false when the
  // connection is over (closed, timed out, stopped or broken — handled here).
  bool read_frame(wire::Frame& frame);
  Next on_hello(const wire::Frame& frame);
  Next on_batch(const wire::Frame& frame);
  // What HELLO_ACK reports as committed (docs/protocol.md 4.2).
  std::uint64_t forgettable_sequence(const wire::Hello& hello) const;
  // Commits the decoded batch_ to the ledger unless it already holds it.
  Next commit_to_ledger(std::uint64_t sequence);
  // Runs the observer on batch_ unless it has handled it.
  Next notify_observer(std::uint64_t sequence);
  Next send_ack(std::uint64_t sequence);
  // Sends ERROR, counts it under `counter`, logs, and says close.
  Next refuse(wire::WireErrorCode code, const std::string& message, std::atomic<std::uint64_t>& counter);

  tls::FrameStream& stream_;
  LedgerStore& store_;
  const IngestSessionSettings& settings_;
  IngestCounters& counters_;
  const std::atomic<bool>& stopping_;
  std::string peer_;

  std::string agent_id_;  // set by HELLO
  bool hello_seen_ = false;
  std::uint64_t highest_committed_ = 0;
  std::uint64_t highest_observed_ = 0;  // the observer's watermark (= highest_committed_ without one)
  std::uint64_t last_sequence_ = 0;  // previous BATCH on this connection
  RecordBatch batch_;                // reused between batches
  std::vector<std::uint8_t> out_;
};

}  // namespace ipattrib::collector
