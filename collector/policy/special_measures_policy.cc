#include "collector/policy/special_measures_policy.h"

namespace ipattrib::collector {

const SpecialMeasure* SpecialMeasuresPolicy::find(const std::string& id) const {
  for (const SpecialMeasure& m : measures) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::vector<std::string> added_or_changed_measures(const SpecialMeasuresPolicy& previous,
                                                   const SpecialMeasuresPolicy& updated) {
  std::vector<std::string> ids;
  for (const SpecialMeasure& m : updated.measures) {
    const SpecialMeasure* before = previous.find(m.id);
    if (before == nullptr || !(*before == m)) ids.push_back(m.id);
  }
  return ids;
}

}  // namespace ipattrib::collector
