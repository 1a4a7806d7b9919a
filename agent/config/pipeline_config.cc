#include "agent/config/pipeline_config.h"

#include <string>

namespace ipattrib::agent {
namespace {

// More workers than this is a typo, not a machine.
constexpr std::int64_t kMaxWorkers = 64;
constexpr std::int64_t kMaxCpu = 4095;

std::vector<int> read_cpu_list(const toml::table& section, std::string_view key, ConfigErrors& errors) {
  std::vector<int> cpus;
  const toml::node* node = section.get(key);
  if (node == nullptr) return cpus;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(*node, "[pipeline] " + std::string(key) + " must be an array of CPU numbers");
    return cpus;
  }
  for (const toml::node& item : *array) {
    const auto value = item.value<std::int64_t>();
    if (!value || *value < 0 || *value > kMaxCpu) {
      errors.add_at(item, "[pipeline] " + std::string(key) + " entries must be CPU numbers 0-" +
                              std::to_string(kMaxCpu));
      continue;
    }
    cpus.push_back(static_cast<int>(*value));
  }
  return cpus;
}

}  // namespace

PipelineConfig parse_pipeline_config(const toml::table& section, ConfigErrors& errors) {
  PipelineConfig config;
  errors.reject_unknown_keys(section, {"workers", "queue_mb", "burst", "output_queue", "capture_cpu", "worker_cpus"},
                             "[pipeline]");
  if (auto v = errors.get_int(section, "workers", 1, kMaxWorkers)) config.workers = static_cast<int>(*v);
  // A ring must hold at least two of the largest frames libpcap delivers (256 KiB).
  if (auto v = errors.get_int(section, "queue_mb", 1, 4096)) config.queue_mb = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "burst", 1, 1024)) config.burst = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "output_queue", 16, 1 << 20)) config.output_queue = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "capture_cpu", -1, kMaxCpu)) config.capture_cpu = static_cast<int>(*v);
  config.worker_cpus = read_cpu_list(section, "worker_cpus", errors);
  if (!config.worker_cpus.empty() && config.worker_cpus.size() != static_cast<std::size_t>(config.workers)) {
    errors.add_at(*section.get("worker_cpus"), "[pipeline] worker_cpus needs one CPU per worker (" +
                                                   std::to_string(config.workers) + "), or none");
  }
  return config;
}

}  // namespace ipattrib::agent
