#include "ipattrib/prometheus_text.h"

#include <fmt/format.h>

#include <algorithm>

namespace ipattrib {

PrometheusText::PrometheusText(std::string prefix, GaugeRule is_gauge)
    : prefix_(std::move(prefix)), is_gauge_(is_gauge ? std::move(is_gauge) : GaugeRule(&has_gauge_suffix)) {}

bool PrometheusText::has_gauge_suffix(std::string_view name) {
  return name.ends_with("_active") || name.ends_with("_connected") || name.ends_with("_pending");
}

std::string PrometheusText::metric_name(std::string_view prefix, std::string_view dotted_name) {
  std::string metric(prefix);
  metric += dotted_name;
  for (std::size_t i = prefix.size(); i < metric.size(); ++i) {
    const char c = metric[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) metric[i] = '_';
  }
  return metric;
}

void PrometheusText::append_escaped(std::string_view value, std::string& out) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void PrometheusText::add(std::string_view name, const Labels& labels, std::uint64_t value) {
  std::string rendered;
  if (!labels.empty()) {
    rendered += '{';
    for (const auto& [label, label_value] : labels) {
      if (rendered.size() > 1) rendered += ',';
      rendered += metric_name("", label);
      rendered += "=\"";
      append_escaped(label_value, rendered);
      rendered += '"';
    }
    rendered += '}';
  }
  auto family = std::find_if(families_.begin(), families_.end(),
                             [&](const Family& f) { return f.dotted_name == name; });
  if (family == families_.end()) {
    Family f;
    f.dotted_name = std::string(name);
    f.gauge = is_gauge_(name);
    f.metric = metric_name(prefix_, name);
    if (!f.gauge) f.metric += "_total";
    families_.push_back(std::move(f));
    family = std::prev(families_.end());
  }
  for (const auto& [existing, v] : family->samples) {
    if (existing == rendered) return;
  }
  family->samples.emplace_back(std::move(rendered), value);
}

void PrometheusText::write(std::string& out) const {
  for (const Family& f : families_) {
    fmt::format_to(std::back_inserter(out), "# HELP {} stats line: {}\n# TYPE {} {}\n", f.metric, f.dotted_name,
                   f.metric, f.gauge ? "gauge" : "counter");
    for (const auto& [labels, value] : f.samples) {
      fmt::format_to(std::back_inserter(out), "{}{} {}\n", f.metric, labels, value);
    }
  }
}

}  // namespace ipattrib
