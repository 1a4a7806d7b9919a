// FlowConfig: the [flow] section of the agent config — how many TCP flows the
// flow table tracks and how much memory reassembly may hold. Every bound here
// is hard: when one is reached the table drops data (and counts it) instead
// of growing.
#pragma once

#include <toml++/toml.h>

#include <cstddef>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct FlowConfig {
  // Concurrent flows; beyond this the flow idle longest (to within
  // idle_timeout_s / 16) is evicted.
  std::size_t max_flows = 262144;
  // Client bytes the consumer left unconsumed (an unfinished request head).
  std::size_t max_buffered_bytes_per_flow = 16384;
  // Client bytes held beyond a sequence hole, per flow.
  std::size_t max_out_of_order_bytes = 32768;
  // All reassembly buffers of the table together ([flow] max_total_buffer_mb).
  std::size_t max_total_buffer_bytes = std::size_t{256} << 20;
  // A flow with no packet for this long (packet time) is dropped.
  int idle_timeout_s = 120;
};

// Reads a [flow] table: max_flows, max_buffered_bytes_per_flow,
// max_out_of_order_bytes, max_total_buffer_mb, idle_timeout_s. Absent keys keep
// their defaults; wrong types, out-of-range values and unknown keys are
// recorded in `errors` with their line.
FlowConfig parse_flow_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
