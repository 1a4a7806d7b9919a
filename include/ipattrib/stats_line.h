// StatsLine: a StatsSink that renders every counter it is given as one
// "name=value" line, the periodic and exit-time stats log line of
// the agent and the collector.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipattrib/stats_sink.h"

namespace ipattrib {

class StatsLine : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override;
  // "decode.frames=10 decode.not_tcp=2 ..." in the order reported.
  std::string to_string() const;
  // Value of a counter reported, or 0.
  std::uint64_t value(std::string_view name) const;
  const std::vector<std::pair<std::string, std::uint64_t>>& counters() const { return counters_; }

 private:
  std::vector<std::pair<std::string, std::uint64_t>> counters_;
};

}  // namespace ipattrib
