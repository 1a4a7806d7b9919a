#include "collector/policy/retroactive_scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace ipattrib::collector {
namespace {

bool overlaps(const IpSummary& s, const SpecialMeasure& m) {
  return s.last_seen_ms >= m.effective_ms && (!m.expires_ms || s.first_seen_ms < *m.expires_ms);
}

}  // namespace

Status RetroactiveScan::run(const RetroactiveScanRequest& request, std::vector<AlertHit>& hits,
                            RetroactiveScanResult& result) {
  return run(
      request,
      [&](std::vector<AlertHit>& batch) {
        std::move(batch.begin(), batch.end(), std::back_inserter(hits));
        return Status::ok();
      },
      result);
}

Status RetroactiveScan::run(const RetroactiveScanRequest& request, const HitSink& sink, RetroactiveScanResult& result) {
  result = RetroactiveScanResult{};
  const std::vector<SpecialMeasure>& measures = evaluator_.policy().measures;
  std::vector<bool> wanted(measures.size(), request.measure_ids.empty());
  for (const std::string& id : request.measure_ids) {
    const auto it = std::find_if(measures.begin(), measures.end(), [&](const SpecialMeasure& m) { return m.id == id; });
    if (it == measures.end()) return Status::error(fmt::format("no measure '{}' in the policy", id));
    wanted[static_cast<std::size_t>(it - measures.begin())] = true;
  }

  const std::size_t batch_size = std::max<std::size_t>(request.batch_size, 1);
  std::vector<AlertHit> batch;
  std::vector<MeasureMatch> at_last, at_first;
  Status status;
  Status scanned = store_.scan_summaries([&](const IpSummary& summary) {
    ++result.summaries_scanned;
    // The ledger keeps geo at first and at last sight only: match both, the
    // last taking precedence for the hit's geo and reason.
    evaluator_.match(summary.last_geo, summary.account, summary.ip, at_last);
    at_first.clear();
    if (summary.first_geo != summary.last_geo) {
      evaluator_.match(summary.first_geo, summary.account, summary.ip, at_first);
    }
    for (MeasureMatch& m : at_last) {
      if (!wanted[m.measure] || !overlaps(summary, measures[m.measure])) continue;
      status = hit_for(summary, summary.last_geo, measures[m.measure], std::move(m.reason), batch, result);
      if (!status) return false;
    }
    for (MeasureMatch& m : at_first) {
      const bool seen = std::any_of(at_last.begin(), at_last.end(), [&](const MeasureMatch& l) {
        return l.measure == m.measure;
      });
      if (seen || !wanted[m.measure] || !overlaps(summary, measures[m.measure])) continue;
      status = hit_for(summary, summary.first_geo, measures[m.measure], std::move(m.reason), batch, result);
      if (!status) return false;
    }
    if (batch.size() >= batch_size) {
      status = sink(batch);
      batch.clear();
    }
    return static_cast<bool>(status);
  });
  if (!scanned) return scanned;
  if (!status) return status;
  if (!batch.empty()) return sink(batch);
  return Status::ok();
}

// Dates the hit from the accesses the ledger still holds inside the
// measure's period.
Status RetroactiveScan::hit_for(const IpSummary& summary, const RecordGeo& geo, const SpecialMeasure& measure,
                                std::string reason, std::vector<AlertHit>& hits, RetroactiveScanResult& result) {
  AccountAccessesQuery query;
  query.account = summary.account;
  query.ip = summary.ip;
  query.access_class = summary.access_class;
  query.range.since_ms = measure.effective_ms;
  query.range.until_ms = measure.expires_ms ? *measure.expires_ms - 1 : std::numeric_limits<std::int64_t>::max();
  query.limit = 10000;
  AlertHit hit;
  for (AccessPage page;;) {
    if (Status s = store_.account_accesses(query, page); !s) return s;
    if (!page.items.empty()) {
      if (hit.count == 0) {
        hit.first_access_ms = page.items.front().time_ms;
        hit.gateway = page.items.front().gateway;
      }
      hit.last_access_ms = page.items.back().time_ms;
      hit.count += page.items.size();
    }
    if (!page.next) break;
    query.after = *page.next;
  }
  if (hit.count == 0) {
    ++result.matched_without_detail;
    return Status::ok();
  }
  hit.measure_id = measure.id;
  hit.measure_title = measure.title;
  hit.severity = measure.severity;
  hit.reason = std::move(reason);
  hit.account = summary.account;
  hit.ip = summary.ip;
  hit.access_class = summary.access_class;
  hit.geo = geo;
  hits.push_back(std::move(hit));
  ++result.hits;
  return Status::ok();
}

}  // namespace ipattrib::collector
