// CpuBudget: whether the configured workers, plus the capture thread that
// feeds them, fit the CPUs the agent may run on. Measured on two CPUs
// (bench/RESULTS.md, "Issue 7 where it stands"), two workers fed by the
// capture thread were slower than one worker on the capture thread: three
// busy threads time-share two CPUs. The agent says so at startup instead of
// leaving an operator to find out from the throughput.
#pragma once

#include <string>

namespace ipattrib::agent {

// CPUs in this process's affinity mask (taskset, cpuset, systemd
// CPUAffinity=); at least 1.
int cpus_available();

// "" when `workers` worker threads, plus the capture thread when it feeds
// them through rings (`capture_thread_feeds`), fit in `cpus`; otherwise a
// warning saying how many threads share how many CPUs and what to set.
std::string cpu_oversubscription_warning(int workers, bool capture_thread_feeds, int cpus);

}  // namespace ipattrib::agent
