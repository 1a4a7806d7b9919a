#include "collector/alert_engine/alert_engine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

namespace ipattrib::collector {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

AlertEngine::AlertEngine(LedgerStore& ledger, AlertStore& alerts, AlertEngineSettings settings)
    : ledger_(ledger), alerts_(alerts), settings_(std::move(settings)) {}

AlertEngine::~AlertEngine() {
  std::lock_guard<std::mutex> lock(scan_mutex_);
  if (scan_thread_.joinable()) scan_thread_.join();
}

void AlertEngine::set_policy(std::shared_ptr<const PolicyEvaluator> evaluator) {
  std::lock_guard<std::mutex> lock(policy_mutex_);
  policy_ = std::move(evaluator);
}

std::shared_ptr<const PolicyEvaluator> AlertEngine::policy() const {
  std::lock_guard<std::mutex> lock(policy_mutex_);
  return policy_;
}

Status AlertEngine::handled_sequence(const std::string& agent_id, std::uint64_t& sequence) {
  return alerts_.evaluated_sequence(agent_id, sequence);
}

Status AlertEngine::on_committed(const RecordBatch& batch) {
  std::vector<AlertHit> hits;
  if (auto evaluator = policy()) {
    for (const AttributionRecord& record : batch.records) evaluator->evaluate(record, hits);
  }
  bump(batches_evaluated_);
  // Nothing to record: skipping the alert store's commit saves an fsync per
  // batch. Its watermark then lags, which only means a retransmission of
  // this batch (never needed: the ledger has it) would be evaluated again.
  if (hits.empty()) return Status::ok();
  RecordHitsResult result;
  Status s = alerts_.record_hits(batch.agent_id, batch.sequence, hits, now_ms(), settings_.dedup_window_ms,
                                 settings_.sinks, result);
  if (!s) {
    bump(evaluation_failures_);
    return s;
  }
  if (result.already_evaluated) return Status::ok();
  bump(hits_, hits.size());
  bump(alerts_created_, result.alerts_created);
  bump(hits_suppressed_, result.hits_suppressed);
  for (std::int64_t id : result.created_ids) {
    spdlog::info("alert {} raised (agent '{}' batch {})", id, batch.agent_id, batch.sequence);
  }
  if (!result.created_ids.empty() && settings_.alerts_queued) settings_.alerts_queued();
  return Status::ok();
}

Status AlertEngine::scan(const std::vector<std::string>& measure_ids, ScanSummary& summary) {
  auto evaluator = policy();
  if (!evaluator) return Status::error("no special-measures policy is loaded");
  RetroactiveScan scan(ledger_, *evaluator);
  RetroactiveScanRequest request;
  request.measure_ids = measure_ids;
  // A (measure, account, ip) alerted before the scan had its accesses
  // counted as they arrived: the scan must not count them again. Keys the
  // scan itself raised keep folding (their other access class, say).
  std::set<std::string> raised_by_scan;
  auto record = [&](std::vector<AlertHit>& found) {
    std::vector<AlertHit> hits;
    for (AlertHit& hit : found) {
      const std::string key = hit.measure_id + '\n' + hit.account + '\n' + hit.ip.to_string();
      bool alerted = false;
      if (!raised_by_scan.contains(key)) {
        if (Status s = has_alert(hit, alerted); !s) return s;
        if (alerted) continue;
        raised_by_scan.insert(key);
      }
      hits.push_back(std::move(hit));
    }
    if (hits.empty()) return Status::ok();
    RecordHitsResult result;
    Status s = alerts_.record_hits("", 0, hits, now_ms(), settings_.dedup_window_ms, settings_.sinks, result);
    summary.alerts_created += result.alerts_created;
    summary.hits_suppressed += result.hits_suppressed;
    if (!result.created_ids.empty() && settings_.alerts_queued) settings_.alerts_queued();
    return s;
  };
  bump(scans_);
  // Under the store's scan lock: collectors sharing the store that reload
  // the same policy change scan one after another, each later one finding
  // the earlier ones' alerts (has_alert) instead of counting them again.
  Status s = alerts_.exclusive_scan([&] { return scan.run(request, record, summary.scan); });
  bump(scan_alerts_created_, summary.alerts_created);
  if (!s) bump(scan_failures_);
  return s;
}

Status AlertEngine::has_alert(const AlertHit& hit, bool& alerted) {
  AlertQuery query;
  query.measure_id = hit.measure_id;
  query.account = hit.account;
  query.limit = 1000;
  alerted = false;
  for (;;) {
    std::vector<Alert> page;
    bool more = false;
    if (Status s = alerts_.list_alerts(query, page, more); !s) return s;
    for (const Alert& alert : page) {
      if (alert.first_hit.ip == hit.ip) {
        alerted = true;
        return Status::ok();
      }
    }
    if (!more || page.empty()) return Status::ok();
    query.before_id = page.back().id;
  }
}

bool AlertEngine::start_scan(const std::vector<std::string>& measure_ids) {
  std::lock_guard<std::mutex> lock(scan_mutex_);
  if (scan_running_.exchange(true)) return false;
  if (scan_thread_.joinable()) scan_thread_.join();  // the previous one has finished
  scan_thread_ = std::thread([this, measure_ids] {
    const std::string what = measure_ids.empty() ? "every measure" : fmt::format("{}", fmt::join(measure_ids, ", "));
    spdlog::info("retroactive scan started: {}", what);
    ScanSummary summary;
    if (Status s = scan(measure_ids, summary); !s) {
      spdlog::error("retroactive scan ({}) failed: {}", what, s.message());
    } else {
      spdlog::info("retroactive scan ({}) done: {} summaries, {} hits, {} alerts raised, {} folded into open alerts, "
                   "{} matches without access detail (retention)",
                   what, summary.scan.summaries_scanned, summary.scan.hits, summary.alerts_created,
                   summary.hits_suppressed, summary.scan.matched_without_detail);
    }
    scan_running_.store(false);
  });
  return true;
}

void AlertEngine::report(StatsSink& sink) const {
  sink.counter("alerts.batches_evaluated", batches_evaluated_.load(std::memory_order_relaxed));
  sink.counter("alerts.hits", hits_.load(std::memory_order_relaxed));
  sink.counter("alerts.created", alerts_created_.load(std::memory_order_relaxed));
  sink.counter("alerts.hits_suppressed", hits_suppressed_.load(std::memory_order_relaxed));
  sink.counter("alerts.evaluation_failures", evaluation_failures_.load(std::memory_order_relaxed));
  sink.counter("alerts.scans", scans_.load(std::memory_order_relaxed));
  sink.counter("alerts.scan_failures", scan_failures_.load(std::memory_order_relaxed));
  sink.counter("alerts.scan_alerts_created", scan_alerts_created_.load(std::memory_order_relaxed));
  sink.counter("alerts.scan_active", scan_running_.load() ? 1 : 0);
}

}  // namespace ipattrib::collector
