#include "agent/capture/dpdk_eal.h"

#include <fmt/format.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace ipattrib::agent {
namespace {

bool has_flag(const std::vector<std::string>& args, std::initializer_list<std::string_view> flags) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return std::any_of(flags.begin(), flags.end(), [&](std::string_view flag) {
      return arg == flag || (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=');
    });
  });
}

std::vector<std::string> eal_argv(const std::vector<std::string>& eal_args, const cpu_set_t& allowed) {
  std::vector<std::string> argv{"ipattrib-agent"};
  if (!has_flag(eal_args, {"-l", "-c", "--lcores"})) {
    int first_cpu = 0;
    while (first_cpu < CPU_SETSIZE && !CPU_ISSET(first_cpu, &allowed)) ++first_cpu;
    argv.push_back("-l");
    argv.push_back(std::to_string(first_cpu < CPU_SETSIZE ? first_cpu : 0));
  }
  if (!has_flag(eal_args, {"--log-level"})) argv.push_back("--log-level=warning");
  argv.insert(argv.end(), eal_args.begin(), eal_args.end());
  return argv;
}

Status start_eal(const std::vector<std::string>& eal_args) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const bool have_affinity = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;
  // rte_eal_init may keep pointers into argv (and permutes it): it lives on.
  static std::vector<std::string> args;
  static std::vector<char*> argv;
  args = eal_argv(eal_args, allowed);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  spdlog::info("dpdk: rte_eal_init {}", fmt::join(args, " "));
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    return Status::error(fmt::format("DPDK EAL did not start ({}); arguments: {}", rte_strerror(rte_errno),
                                     fmt::join(args, " ")));
  }
  if (have_affinity && sched_setaffinity(0, sizeof(allowed), &allowed) != 0) {
    spdlog::warn("dpdk: cannot restore the CPU affinity the EAL changed; agent threads stay on the main lcore");
  }
  std::atexit([] { rte_eal_cleanup(); });
  return Status::ok();
}

}  // namespace

Status init_dpdk_eal(const std::vector<std::string>& eal_args) {
  static std::once_flag once;
  static Status result;
  std::call_once(once, [&] { result = start_eal(eal_args); });
  return result;
}

}  // namespace ipattrib::agent
