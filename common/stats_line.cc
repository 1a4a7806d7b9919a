#include "ipattrib/stats_line.h"

#include <fmt/format.h>

namespace ipattrib {

void StatsLine::counter(std::string_view name, std::uint64_t value) { counters_.emplace_back(name, value); }

std::string StatsLine::to_string() const {
  std::string out;
  for (const auto& [name, value] : counters_) {
    if (!out.empty()) out += ' ';
    fmt::format_to(std::back_inserter(out), "{}={}", name, value);
  }
  return out;
}

std::uint64_t StatsLine::value(std::string_view name) const {
  for (const auto& [n, v] : counters_) {
    if (n == name) return v;
  }
  return 0;
}

}  // namespace ipattrib
