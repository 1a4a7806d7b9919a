// AlertEngine: the special-measures step of ingest. Every batch the ledger
// commits is evaluated against the policy in force and its hits recorded in
// the AlertStore exactly once (the store's per-agent watermark, advanced
// with every batch that had hits, makes a retransmission after a crash
// re-evaluate what was lost, never twice). A
// policy reload swaps the evaluator; a retroactive scan then raises alerts
// for what the ledger already holds under new or changed measures.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/alerts/alert_store.h"
#include "collector/ingest/committed_batch_observer.h"
#include "collector/ledger/ledger_store.h"
#include "collector/policy/policy_evaluator.h"
#include "collector/policy/retroactive_scan.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::collector {

struct AlertEngineSettings {
  std::int64_t dedup_window_ms = 3600 * 1000;
  std::vector<std::string> sinks;  // each new alert is queued for every one
  std::function<void()> alerts_queued;  // called after new alerts were queued (wakes delivery)
};

// What one retroactive scan did.
struct ScanSummary {
  RetroactiveScanResult scan;
  std::uint64_t alerts_created = 0;
  std::uint64_t hits_suppressed = 0;
};

class AlertEngine : public CommittedBatchObserver {
 public:
  AlertEngine(LedgerStore& ledger, AlertStore& alerts, AlertEngineSettings settings);
  ~AlertEngine() override;  // waits for a background scan
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Puts `evaluator` in force for the batches that follow (nullptr: none,
  // every batch raises nothing). Thread-safe.
  void set_policy(std::shared_ptr<const PolicyEvaluator> evaluator);
  std::shared_ptr<const PolicyEvaluator> policy() const;

  Status handled_sequence(const std::string& agent_id, std::uint64_t& sequence) override;
  Status on_committed(const RecordBatch& batch) override;

  // Scans the ledger under the policy in force, for `measure_ids` (empty:
  // every measure), and records what it finds — only for (measure, account,
  // ip) that have no alert yet, so no access is counted twice; blocks until
  // done.
  Status scan(const std::vector<std::string>& measure_ids, ScanSummary& summary);
  // Same on a background thread; false when one is still running. The
  // outcome is logged and counted.
  bool start_scan(const std::vector<std::string>& measure_ids);
  bool scan_running() const { return scan_running_.load(); }

  void report(StatsSink& sink) const;

 private:
  // Whether an alert of hit's (measure, account, ip) exists, in any state.
  Status has_alert(const AlertHit& hit, bool& alerted);

  LedgerStore& ledger_;
  AlertStore& alerts_;
  const AlertEngineSettings settings_;
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const PolicyEvaluator> policy_;

  std::mutex scan_mutex_;  // guards scan_thread_
  std::thread scan_thread_;
  std::atomic<bool> scan_running_{false};

  std::atomic<std::uint64_t> batches_evaluated_{0};
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> alerts_created_{0};
  std::atomic<std::uint64_t> hits_suppressed_{0};
  std::atomic<std::uint64_t> evaluation_failures_{0};
  std::atomic<std::uint64_t> scans_{0};
  std::atomic<std::uint64_t> scan_failures_{0};
  std::atomic<std::uint64_t> scan_alerts_created_{0};
};

}  // namespace ipattrib::collector
