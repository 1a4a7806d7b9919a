// RetroactiveScan: evaluates what the ledger already holds against a policy,
// so that a newly designated jurisdiction, person or network immediately
// shows who was already exposed. Run after a reload adds or changes a
// measure, or on demand (ipattribctl scan --measure ID); the hits it yields
// go to AlertStore::record_hits as a retroactive evaluation (agent "",
// sequence 0).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "collector/ledger/ledger_store.h"
#include "collector/policy/policy_evaluator.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

struct RetroactiveScanRequest {
  std::vector<std::string> measure_ids;  // empty: every measure of the policy
  std::size_t batch_size = 1000;         // hits handed to the sink at a time
};

struct RetroactiveScanResult {
  std::uint64_t summaries_scanned = 0;
  std::uint64_t hits = 0;
  // Summaries that matched a measure in its period but whose access detail
  // in that period retention has already removed: no hit can be dated.
  std::uint64_t matched_without_detail = 0;
};

class RetroactiveScan {
 public:
  using HitSink = std::function<Status(std::vector<AlertHit>& hits)>;

  RetroactiveScan(LedgerStore& store, const PolicyEvaluator& evaluator) : store_(store), evaluator_(evaluator) {}

  // Visits every (account, ip, class) summary once. A summary falls under a
  // measure when its geo at first or at last sight, its account or its ip
  // matches and its [first_seen, last_seen] overlaps the measure's period;
  // its accesses inside the period then give the hit's first and last
  // access, count and gateway (that of the first access). Hits reach `sink`
  // in batches of request.batch_size and at the end; a sink or store error
  // stops the scan and is returned. An id the policy lacks is an error.
  Status run(const RetroactiveScanRequest& request, const HitSink& sink, RetroactiveScanResult& result);

  // Same, collecting every hit (small ledgers, tests).
  Status run(const RetroactiveScanRequest& request, std::vector<AlertHit>& hits, RetroactiveScanResult& result);

 private:
  Status hit_for(const IpSummary& summary, const RecordGeo& geo, const SpecialMeasure& measure, std::string reason,
                 std::vector<AlertHit>& hits, RetroactiveScanResult& result);

  LedgerStore& store_;
  const PolicyEvaluator& evaluator_;
};

}  // namespace ipattrib::collector
