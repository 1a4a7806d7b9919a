// StatsSink: where a module reports its named counters for the stats line and,
// later, the metrics endpoint. Names are dotted, e.g. "decode.ipv4_fragment".
#pragma once

#include <cstdint>
#include <string_view>

namespace ipattrib {

class StatsSink {
 public:
  virtual ~StatsSink() = default;
  virtual void counter(std::string_view name, std::uint64_t value) = 0;
};

}  // namespace ipattrib
