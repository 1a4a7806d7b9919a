// PolicyEvaluator: decides which special measures an access falls under.
// Built once per loaded policy (it indexes countries, subdivisions, accounts,
// ASNs and anonymizer flags so a record costs a few lookups however many
// measures there are) and then only read, so ingest threads share one
// instance and a reload swaps in a new one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "collector/policy/special_measures_policy.h"
#include "ipattrib/attribution_record.h"

namespace ipattrib::collector {

// One measure that an access falls under, and what matched.
struct MeasureMatch {
  std::uint32_t measure = 0;  // index into policy().measures
  std::string reason;         // e.g. "country IR", "subdivision UA-43, asn 64500"
  friend bool operator==(const MeasureMatch&, const MeasureMatch&) = default;
};

class PolicyEvaluator {
 public:
  explicit PolicyEvaluator(SpecialMeasuresPolicy policy);

  const SpecialMeasuresPolicy& policy() const { return policy_; }

  // Appends one hit per measure the record falls under that was in force at
  // one or more of its access times; the hit covers exactly those times
  // (first, last, count), so a record that straddles a measure's effective
  // or expiry date counts only the accesses the measure applied to.
  void evaluate(const AttributionRecord& record, std::vector<AlertHit>& hits) const;

  // Every measure that (geo, account, ip) falls under, whatever its period,
  // in policy order. `matches` is cleared first.
  void match(const RecordGeo& geo, const std::string& account, const IpAddress& ip,
             std::vector<MeasureMatch>& matches) const;

 private:
  using MeasureList = std::vector<std::uint32_t>;
  static constexpr std::size_t kCountrySlots = 26 * 26;
  struct NetworkEntry {
    Cidr network;
    std::uint32_t measure;
  };

  SpecialMeasuresPolicy policy_;
  std::array<MeasureList, kCountrySlots> by_country_;
  std::array<MeasureList, kCountrySlots> by_registered_country_;  // measures with match_registered_country
  std::unordered_map<std::string, MeasureList> by_subdivision_;
  std::unordered_map<std::string, MeasureList> by_account_;
  std::unordered_map<std::uint32_t, MeasureList> by_asn_;
  std::vector<NetworkEntry> networks_;
  std::uint8_t any_anonymizer_flags_ = 0;
};

}  // namespace ipattrib::collector
