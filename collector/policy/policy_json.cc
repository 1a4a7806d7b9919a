#include "collector/policy/policy_json.h"

#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::collector {

nlohmann::json measure_to_json(const SpecialMeasure& m) {
  nlohmann::json networks = nlohmann::json::array();
  for (const Cidr& n : m.networks) networks.push_back(n.to_string());
  nlohmann::json anonymizers = nlohmann::json::array();
  for_each_anonymizer_flag(m.anonymizer_flags, [&](std::string_view name) { anonymizers.push_back(name); });
  return nlohmann::json{
      {"id", m.id},
      {"title", m.title},
      {"basis", m.basis},
      {"severity", severity_name(m.severity)},
      {"effective", m.effective_text},
      {"effective_ms", m.effective_ms},
      {"expires", m.expires_ms ? nlohmann::json(m.expires_text) : nlohmann::json(nullptr)},
      {"expires_ms", m.expires_ms ? nlohmann::json(*m.expires_ms) : nlohmann::json(nullptr)},
      {"countries", m.countries},
      {"match_registered_country", m.match_registered_country},
      {"subdivisions", m.subdivisions},
      {"accounts", m.accounts},
      {"networks", std::move(networks)},
      {"asns", m.asns},
      {"anonymizers", std::move(anonymizers)},
  };
}

nlohmann::json policy_to_json(const SpecialMeasuresPolicy& policy) {
  nlohmann::json measures = nlohmann::json::array();
  for (const SpecialMeasure& m : policy.measures) measures.push_back(measure_to_json(m));
  return nlohmann::json{{"source", policy.source}, {"measures", std::move(measures)}};
}

}  // namespace ipattrib::collector
