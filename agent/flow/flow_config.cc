#include "agent/flow/flow_config.h"

namespace ipattrib::agent {

FlowConfig parse_flow_config(const toml::table& section, ConfigErrors& errors) {
  FlowConfig config;
  errors.reject_unknown_keys(section,
                             {"max_flows", "max_buffered_bytes_per_flow", "max_out_of_order_bytes",
                              "max_total_buffer_mb", "idle_timeout_s"},
                             "[flow]");
  // Flow and chunk indices are 32-bit; these ceilings keep them far from it.
  if (auto v = errors.get_int(section, "max_flows", 1, std::int64_t{1} << 26)) config.max_flows = *v;
  if (auto v = errors.get_int(section, "max_buffered_bytes_per_flow", 256, 1 << 20)) {
    config.max_buffered_bytes_per_flow = *v;
  }
  if (auto v = errors.get_int(section, "max_out_of_order_bytes", 0, 256 << 10)) config.max_out_of_order_bytes = *v;
  if (auto v = errors.get_int(section, "max_total_buffer_mb", 1, 1 << 20)) {
    config.max_total_buffer_bytes = static_cast<std::size_t>(*v) << 20;
  }
  if (auto v = errors.get_int(section, "idle_timeout_s", 1, 86400)) config.idle_timeout_s = static_cast<int>(*v);
  return config;
}

}  // namespace ipattrib::agent
