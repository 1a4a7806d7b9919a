#include "agent/pipeline/cpu_budget.h"

#include <sched.h>

#include <fmt/format.h>

namespace ipattrib::agent {

int cpus_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? count : 1;
}

std::string cpu_oversubscription_warning(int workers, bool capture_thread_feeds, int cpus) {
  if (workers <= 1) return "";  // the whole path runs on the capture thread
  const int busy = workers + (capture_thread_feeds ? 1 : 0);
  if (busy <= cpus) return "";
  const int fitting = capture_thread_feeds ? cpus - 1 : cpus;
  return fmt::format(
      "{} busy packet threads ({} workers{}) share {} CPU(s): they time-share and run slower than fewer "
      "would; set [pipeline] workers = {}{}",
      busy, workers, capture_thread_feeds ? " and the capture thread feeding them" : "", cpus,
      fitting >= 2 ? fitting : 1, fitting >= 2 ? "" : " (the whole path on the capture thread)");
}

}  // namespace ipattrib::agent
