// PipelineConfig: the [pipeline] section of the agent config — how many
// worker threads share the packet path, how much a worker may fall behind
// capture before frames are dropped (counted), and which CPUs the threads run on.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct PipelineConfig {
  // Worker threads, each with its own flow table, parsers, geo cache and
  // aggregator; flows are spread over them by a symmetric hash. With 1 the
  // packet path runs on the capture thread itself (no queue, no copy).
  int workers = 1;
  // Per-worker ring of copied frames between capture and the worker, in MiB.
  // Sized in bytes rather than frames: GRO/TSO frames reach 64 KiB while most
  // are a few hundred bytes, so fixed snaplen slots would waste most of it.
  int queue_mb = 16;
  // Frames read from the capture per call (and handed to the workers at once).
  int burst = 64;
  // Per-worker queue of finished --events lines and record batches to the
  // capture thread, which writes and ships them.
  int output_queue = 8192;
  // CPU the capture thread is pinned to; -1: not pinned.
  int capture_cpu = -1;
  // CPU of each worker (as many entries as workers); empty: not pinned.
  std::vector<int> worker_cpus;
};

// Reads a [pipeline] table: workers, queue_mb, burst, output_queue,
// capture_cpu, worker_cpus. Absent keys keep their defaults; wrong types,
// out-of-range values, a worker_cpus list whose length is not `workers`, and
// unknown keys are recorded in `errors` with their line.
PipelineConfig parse_pipeline_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
