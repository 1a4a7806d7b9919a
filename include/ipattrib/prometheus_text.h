// PrometheusText: StatsSink counters written in the Prometheus text exposition
// format (version 0.0.4), for GET /metrics of the collector and the agent.
// "ingest.batches" becomes <prefix>ingest_batches_total, a counter; names the
// gauge rule picks (levels such as "flow.active") keep their name and are
// gauges. Samples of one family are written together under one # HELP (the
// stats line name) and # TYPE line, families in the order first reported;
// a series reported twice keeps its first value (the text format allows each
// series once).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipattrib/stats_sink.h"

namespace ipattrib {

class PrometheusText : public StatsSink {
 public:
  using GaugeRule = std::function<bool(std::string_view dotted_name)>;
  using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

  // prefix: "ipattrib_" (collector) or "ipattrib_agent_". Without a rule,
  // names ending _active, _connected or _pending are gauges.
  explicit PrometheusText(std::string prefix, GaugeRule is_gauge = {});

  void counter(std::string_view name, std::uint64_t value) override { add(name, {}, value); }
  // One sample of the family named by the dotted `name`, with labels (e.g.
  // {"worker", "0"}); label values are escaped.
  void add(std::string_view name, const Labels& labels, std::uint64_t value);
  // Appends every family.
  void write(std::string& out) const;

  static bool has_gauge_suffix(std::string_view dotted_name);
  // prefix + the dotted name with every character outside [a-zA-Z0-9_] as '_'.
  static std::string metric_name(std::string_view prefix, std::string_view dotted_name);
  // A label value with \, " and newline escaped as the text format wants.
  static void append_escaped(std::string_view value, std::string& out);

 private:
  struct Family {
    std::string dotted_name;
    std::string metric;
    bool gauge = false;
    std::vector<std::pair<std::string, std::uint64_t>> samples;  // rendered labels, value
  };

  std::string prefix_;
  GaugeRule is_gauge_;
  std::vector<Family> families_;
};

}  // namespace ipattrib
