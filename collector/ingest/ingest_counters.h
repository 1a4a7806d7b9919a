// IngestCounters: what the ingest server did, shared by its connection
// threads (relaxed atomics: they are statistics, not synchronisation) and
// reported as "ingest.<reason>" through a StatsSink.
#pragma once

#include <atomic>
#include <cstdint>

#include "ipattrib/latency_histogram.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::collector {

struct IngestCounters {
  std::atomic<std::uint64_t> connections{0};           // accepted TCP connections
  std::atomic<std::uint64_t> connections_active{0};    // gauge: connection threads running
  std::atomic<std::uint64_t> agents_connected{0};      // gauge: connections past HELLO
  std::atomic<std::uint64_t> connections_rejected{0};  // closed at once: max_connections reached
  std::atomic<std::uint64_t> handshake_failures{0};    // TLS handshake failed or timed out (not a cert problem)
  std::atomic<std::uint64_t> auth_failures{0};         // cert missing/unverified, identity not allowed, id mismatch
  std::atomic<std::uint64_t> protocol_errors{0};       // malformed frame, wrong version, oversize, bad batch, ...
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> store_errors{0};          // apply_batch or highest_sequence failed
  std::atomic<std::uint64_t> observer_errors{0};       // committed, but the alert evaluation failed: not acknowledged
  std::atomic<std::uint64_t> batches{0};               // applied
  std::atomic<std::uint64_t> duplicate_batches{0};     // acknowledged and ignored (retransmissions)
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> accesses{0};
  LatencyHistogram store_apply_seconds;  // apply_batch wall time, durable commit included

  void report(StatsSink& sink) const {
    sink.counter("ingest.connections", connections.load(std::memory_order_relaxed));
    sink.counter("ingest.connections_active", connections_active.load(std::memory_order_relaxed));
    sink.counter("ingest.agents_connected", agents_connected.load(std::memory_order_relaxed));
    sink.counter("ingest.connections_rejected", connections_rejected.load(std::memory_order_relaxed));
    sink.counter("ingest.handshake_failures", handshake_failures.load(std::memory_order_relaxed));
    sink.counter("ingest.auth_failures", auth_failures.load(std::memory_order_relaxed));
    sink.counter("ingest.protocol_errors", protocol_errors.load(std::memory_order_relaxed));
    sink.counter("ingest.idle_timeouts", idle_timeouts.load(std::memory_order_relaxed));
    sink.counter("ingest.store_errors", store_errors.load(std::memory_order_relaxed));
    sink.counter("ingest.observer_errors", observer_errors.load(std::memory_order_relaxed));
    sink.counter("ingest.batches", batches.load(std::memory_order_relaxed));
    sink.counter("ingest.duplicate_batches", duplicate_batches.load(std::memory_order_relaxed));
    sink.counter("ingest.records", records.load(std::memory_order_relaxed));
    sink.counter("ingest.accesses", accesses.load(std::memory_order_relaxed));
  }
};

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace ipattrib::collector
