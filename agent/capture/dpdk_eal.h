// init_dpdk_eal: starts DPDK's Environment Abstraction Layer, which can
// happen once per process; every DPDK port the agent opens shares it.
#pragma once

#include <string>
#include <vector>

#include "ipattrib/status.h"

namespace ipattrib::agent {

// Runs rte_eal_init with {"ipattrib-agent", eal_args...}, adding "-l <first
// allowed CPU>" when no -l/-c/--lcores is given and "--log-level=warning"
// when no --log-level is. The calling thread's CPU affinity is restored
// afterwards: the EAL pins it to the main lcore, and every thread the agent
// starts later would inherit that pin. A second call returns the first
// call's result (the EAL cannot start twice); rte_eal_cleanup runs at exit.
Status init_dpdk_eal(const std::vector<std::string>& eal_args);

}  // namespace ipattrib::agent
