// PrometheusCounters: writes StatsSink counters in the Prometheus text format
// for GET /metrics: "ingest.batches" becomes ipattrib_ingest_batches_total;
// gauges (names ending _active, _connected or _pending) keep their names.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "ipattrib/stats_sink.h"

namespace ipattrib::collector {

class PrometheusCounters : public StatsSink {
 public:
  explicit PrometheusCounters(std::string& out) : out_(out) {}
  void counter(std::string_view name, std::uint64_t value) override {
    std::string metric = "ipattrib_" + std::string(name);
    for (char& c : metric) {
      if (c == '.' || c == '-') c = '_';
    }
    const bool gauge = name.ends_with("_active") || name.ends_with("_connected") || name.ends_with("_pending");
    if (!gauge) metric += "_total";
    out_ += fmt::format("# TYPE {} {}\n{} {}\n", metric, gauge ? "gauge" : "counter", metric, value);
  }

 private:
  std::string& out_;
};

}  // namespace ipattrib::collector
