// SpecialMeasuresPolicy: the special measures the collector screens every
// access against — each a legal basis, an effective period, a severity and
// the jurisdictions, persons and networks it names — as loaded from the
// policy file (docs/special-measures.md). A plain value: the evaluator
// indexes it, the API lists it, a reload replaces it whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/alerts/alert_types.h"
#include "ipattrib/ip_address.h"

namespace ipattrib::collector {

struct SpecialMeasure {
  std::string id;     // unique in the policy; [A-Za-z0-9._-]
  std::string title;  // one line for people
  std::string basis;  // the legal reference, free text
  // In force for access times in [effective_ms, expires_ms): the policy in
  // effect at the access time decides, not the policy at evaluation time.
  std::int64_t effective_ms = 0;
  std::optional<std::int64_t> expires_ms;
  std::string effective_text;  // as written ("2024-01-01"), for listings
  std::string expires_text;    // "" when it never expires
  Severity severity = Severity::kInfo;

  // What the measure matches; any one criterion is enough.
  std::vector<std::string> countries;     // ISO 3166-1 alpha-2, the access's country
  std::vector<std::string> subdivisions;  // ISO 3166-2, e.g. "UA-43"
  bool match_registered_country = false;  // countries also match the IP's registered country
  std::vector<std::string> accounts;
  std::vector<Cidr> networks;  // v4 and v6
  std::vector<std::uint32_t> asns;
  std::uint8_t anonymizer_flags = 0;  // AnonymizerFlag bits; any one set on the access matches

  bool in_force_at(std::int64_t time_ms) const {
    return time_ms >= effective_ms && (!expires_ms || time_ms < *expires_ms);
  }
  friend bool operator==(const SpecialMeasure&, const SpecialMeasure&) = default;
};

struct SpecialMeasuresPolicy {
  std::string source;  // the file it was loaded from
  std::vector<SpecialMeasure> measures;  // file order
  const SpecialMeasure* find(const std::string& id) const;
};

// Ids of the measures in `updated` that are new or differ from the measure
// of the same id in `previous`: what a retroactive scan must look at after
// a reload. Removed measures raise nothing, so they are not listed.
std::vector<std::string> added_or_changed_measures(const SpecialMeasuresPolicy& previous,
                                                   const SpecialMeasuresPolicy& updated);

}  // namespace ipattrib::collector
