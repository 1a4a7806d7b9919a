// The JSON form of a loaded policy, as GET /v1/measures answers it
// (docs/special-measures.md shows an example).
#pragma once

#include <nlohmann/json.hpp>

#include "collector/policy/special_measures_policy.h"

namespace ipattrib::collector {

nlohmann::json measure_to_json(const SpecialMeasure& measure);
// {"source": path, "measures": [measure_to_json, ...]} in file order.
nlohmann::json policy_to_json(const SpecialMeasuresPolicy& policy);

}  // namespace ipattrib::collector
