#include "collector/alerts/alert_types.h"

#include <array>
#include <utility>

namespace ipattrib::collector {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 4> kSeverityNames = {{
    {Severity::kCritical, "critical"},
    {Severity::kHigh, "high"},
    {Severity::kReview, "review"},
    {Severity::kInfo, "info"},
}};

constexpr std::array<std::pair<AlertState, std::string_view>, 3> kStateNames = {{
    {AlertState::kOpen, "open"},
    {AlertState::kAcknowledged, "acknowledged"},
    {AlertState::kResolved, "resolved"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [e, name] : names) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename Enum, std::size_t N>
bool parse_name(const std::array<std::pair<Enum, std::string_view>, N>& names, std::string_view text, Enum& value) {
  for (const auto& [e, name] : names) {
    if (name == text) {
      value = e;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view severity_name(Severity severity) { return name_of(kSeverityNames, severity); }

bool parse_severity(std::string_view text, Severity& severity) { return parse_name(kSeverityNames, text, severity); }

std::string_view alert_state_name(AlertState state) { return name_of(kStateNames, state); }

bool parse_alert_state(std::string_view text, AlertState& state) { return parse_name(kStateNames, text, state); }

}  // namespace ipattrib::collector
