#include "collector/policy/policy_evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {
namespace {

// "AA".."ZZ" -> 0..675; -1 for anything else (unknown country is "").
int country_slot(std::string_view code) {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') return -1;
  return (code[0] - 'A') * 26 + (code[1] - 'A');
}

// Matched (measure, what) pairs of one access, before merging per measure.
using Found = std::vector<std::pair<std::uint32_t, std::string>>;

template <typename Map, typename Key>
void add_from(const Map& index, const Key& key, std::string_view what, std::string_view shown, Found& found) {
  if (auto it = index.find(key); it != index.end()) {
    for (std::uint32_t m : it->second) found.emplace_back(m, fmt::format("{} {}", what, shown));
  }
}

}  // namespace

PolicyEvaluator::PolicyEvaluator(SpecialMeasuresPolicy policy) : policy_(std::move(policy)) {
  for (std::uint32_t i = 0; i < policy_.measures.size(); ++i) {
    const SpecialMeasure& m = policy_.measures[i];
    for (const std::string& c : m.countries) {
      const int slot = country_slot(c);
      if (slot < 0) continue;  // the loader admits only ISO codes; a hand-built policy may not
      by_country_[static_cast<std::size_t>(slot)].push_back(i);
      if (m.match_registered_country) by_registered_country_[static_cast<std::size_t>(slot)].push_back(i);
    }
    for (const std::string& s : m.subdivisions) by_subdivision_[s].push_back(i);
    for (const std::string& a : m.accounts) by_account_[a].push_back(i);
    for (std::uint32_t asn : m.asns) by_asn_[asn].push_back(i);
    for (const Cidr& n : m.networks) networks_.push_back(NetworkEntry{n, i});
    any_anonymizer_flags_ = static_cast<std::uint8_t>(any_anonymizer_flags_ | m.anonymizer_flags);
  }
}

void PolicyEvaluator::match(const RecordGeo& geo, const std::string& account, const IpAddress& ip,
                            std::vector<MeasureMatch>& matches) const {
  matches.clear();
  Found found;
  if (const int slot = country_slot(geo.country); slot >= 0) {
    for (std::uint32_t m : by_country_[static_cast<std::size_t>(slot)]) {
      found.emplace_back(m, "country " + geo.country);
    }
  }
  if (const int slot = country_slot(geo.registered_country); slot >= 0 && geo.registered_country != geo.country) {
    for (std::uint32_t m : by_registered_country_[static_cast<std::size_t>(slot)]) {
      found.emplace_back(m, "registered country " + geo.registered_country);
    }
  }
  if (!geo.subdivision.empty()) add_from(by_subdivision_, geo.subdivision, "subdivision", geo.subdivision, found);
  if (!by_account_.empty()) add_from(by_account_, account, "account", account, found);
  for (const NetworkEntry& n : networks_) {
    if (n.network.contains(ip)) found.emplace_back(n.measure, "network " + n.network.to_string());
  }
  if (geo.asn != 0) add_from(by_asn_, geo.asn, "asn", std::to_string(geo.asn), found);
  if ((geo.anonymizer_flags & any_anonymizer_flags_) != 0) {
    for (std::uint32_t i = 0; i < policy_.measures.size(); ++i) {
      for_each_anonymizer_flag(geo.anonymizer_flags & policy_.measures[i].anonymizer_flags,
                               [&](std::string_view name) { found.emplace_back(i, std::string(name)); });
    }
  }
  if (found.empty()) return;

  // One match per measure, its reasons in the order checked above.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [measure, what] : found) {
    if (!matches.empty() && matches.back().measure == measure) {
      matches.back().reason += ", " + what;
    } else {
      matches.push_back(MeasureMatch{measure, std::move(what)});
    }
  }
}

void PolicyEvaluator::evaluate(const AttributionRecord& record, std::vector<AlertHit>& hits) const {
  std::vector<MeasureMatch> matches;
  match(record.geo, record.account, record.client_ip, matches);
  const std::vector<std::int64_t>& times = record.access_times_ms;  // ascending
  for (MeasureMatch& found : matches) {
    const SpecialMeasure& m = policy_.measures[found.measure];
    const auto begin = std::lower_bound(times.begin(), times.end(), m.effective_ms);
    const auto end = m.expires_ms ? std::lower_bound(begin, times.end(), *m.expires_ms) : times.end();
    if (begin == end) continue;  // none of its accesses fell in the measure's period
    AlertHit hit;
    hit.measure_id = m.id;
    hit.measure_title = m.title;
    hit.severity = m.severity;
    hit.reason = std::move(found.reason);
    hit.account = record.account;
    hit.ip = record.client_ip;
    hit.access_class = record.access_class;
    hit.geo = record.geo;
    hit.gateway = record.gateway;
    hit.first_access_ms = *begin;
    hit.last_access_ms = *(end - 1);
    hit.count = static_cast<std::uint64_t>(end - begin);
    hits.push_back(std::move(hit));
  }
}

}  // namespace ipattrib::collector
