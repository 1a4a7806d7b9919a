#include "agent/metrics/metrics_snapshot.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "ipattrib/prometheus_text.h"

namespace ipattrib::agent {
namespace {

// Name stems followed by an instance number, and the label the number becomes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kInstanceStems = {{
    {"worker", "worker"},      // pipeline.worker<N>.frames
    {"dpdk_queue", "queue"},  // capture.dpdk_queue<N>_packets
}};

// Levels among the stats line counters (besides the *_active/_connected/
// _pending suffixes the collector uses too); everything else only grows.
constexpr std::array<std::string_view, 7> kGauges = {
    "flow.active",      "flow.buffer_bytes_in_use", "geo.databases_open", "geo.db_age_s",
    "pipeline.workers", "spool.batches",            "spool.bytes",
};

double seconds(std::int64_t us) { return static_cast<double>(us) / 1e6; }

void gauge(std::string& out, std::string_view name, std::string_view help, std::string_view labels,
           std::string_view value) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} gauge\n{}{} {}\n", name, help, name, name, labels,
                 value);
}

}  // namespace

MetricsSnapshot::MetricsSnapshot(Identity identity) : identity_(std::move(identity)) {}

void MetricsSnapshot::publish(const StatsLine& counters, std::int64_t now_us, bool workers_progressing) {
  auto next = std::make_shared<Published>();
  next->counters = counters.counters();
  next->at_us = now_us;
  next->workers_progressing = workers_progressing;
  last_publish_us_ = now_us;
  std::shared_ptr<const Published> old;
  {
    std::lock_guard lock(mutex_);
    old = std::exchange(latest_, std::move(next));
  }
  // `old` is freed here, outside the lock.
}

MetricsSnapshot::Series MetricsSnapshot::series_of(std::string_view name) {
  std::size_t segment = 0;
  while (segment <= name.size()) {
    for (const auto& [stem, label] : kInstanceStems) {
      if (name.substr(segment, stem.size()) != stem) continue;
      const std::size_t digits = segment + stem.size();
      std::size_t end = digits;
      while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end])) != 0) ++end;
      if (end == digits || (end < name.size() && name[end] != '.' && name[end] != '_')) continue;
      Series series;
      series.family = std::string(name.substr(0, digits)) + std::string(name.substr(end));
      series.label = std::string(label);
      series.label_value = std::string(name.substr(digits, end - digits));
      return series;
    }
    const std::size_t dot = name.find('.', segment);
    if (dot == std::string_view::npos) break;
    segment = dot + 1;
  }
  return Series{std::string(name), "", ""};
}

bool MetricsSnapshot::is_gauge(std::string_view family) {
  for (std::string_view g : kGauges) {
    if (family == g) return true;
  }
  return PrometheusText::has_gauge_suffix(family);
}

std::string MetricsSnapshot::prometheus_text(std::int64_t now_us) const {
  std::shared_ptr<const Published> latest;
  {
    std::lock_guard lock(mutex_);
    latest = latest_;
  }
  std::string out;
  std::string labels = "{version=\"";
  PrometheusText::append_escaped(identity_.version, labels);
  labels += "\",agent=\"";
  PrometheusText::append_escaped(identity_.agent_id, labels);
  labels += "\",gateway=\"";
  PrometheusText::append_escaped(identity_.gateway, labels);
  labels += "\"}";
  gauge(out, "ipattrib_agent_info", "The agent's version and names; always 1.", labels, "1");
  gauge(out, "process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", "",
        fmt::format("{:.3f}", seconds(identity_.process_start_us)));
  if (latest == nullptr) return out;  // before the main loop's first publish
  gauge(out, "ipattrib_agent_metrics_age_seconds",
        "Seconds since the main loop published these counters (it does about once a second).", "",
        fmt::format("{:.3f}", seconds(std::max<std::int64_t>(0, now_us - latest->at_us))));
  gauge(out, "ipattrib_agent_pipeline_stalled",
        "1 while a worker has made no progress for 10 s (the systemd watchdog pings stop).", "",
        latest->workers_progressing ? "0" : "1");
  PrometheusText text("ipattrib_agent_", &MetricsSnapshot::is_gauge);
  for (const auto& [name, value] : latest->counters) {
    const Series series = series_of(name);
    if (series.label.empty()) {
      text.add(series.family, {}, value);
    } else {
      text.add(series.family, {{series.label, series.label_value}}, value);
    }
  }
  text.write(out);
  return out;
}

MetricsHealth MetricsSnapshot::health(std::int64_t now_us) const {
  std::shared_ptr<const Published> latest;
  {
    std::lock_guard lock(mutex_);
    latest = latest_;
  }
  MetricsHealth health;
  if (latest == nullptr) {
    health.status = "starting";
    return health;
  }
  const std::int64_t age_us = std::max<std::int64_t>(0, now_us - latest->at_us);
  health.snapshot_age_s = seconds(age_us);
  if (age_us > kStaleUs) {
    health.status = "stalled";
  } else if (!latest->workers_progressing) {
    health.status = "no_progress";
  } else {
    health.ok = true;
    health.status = "ok";
  }
  return health;
}

}  // namespace ipattrib::agent
