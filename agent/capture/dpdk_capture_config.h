// DpdkCaptureConfig: the [capture.dpdk] table — how the DPDK backend starts
// the EAL, which port it reads and how it sizes queues and buffers. Parsed in
// every build so configs are checked the same way whether or not this agent
// was built with DPDK.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct DpdkCaptureConfig {
  // Passed to rte_eal_init after the program name, e.g. ["-l", "2",
  // "--vdev=net_pcap0,rx_pcap=x.pcap"]. Without -l/-c/--lcores the EAL gets
  // the first CPU the agent may run on; without --log-level, "warning".
  std::vector<std::string> eal_args;
  // Port index ("0") or device name ("0000:03:00.0", "net_pcap0").
  std::string port = "0";
  // RX queues; more than one needs RSS, which the port is configured with a
  // symmetric key for (both directions of a flow land on the same queue).
  int rx_queues = 1;
  int mbuf_pool_size = 16383;  // mbufs (2^n - 1 is the mempool's best size)
  int mbuf_cache = 256;        // per-lcore mempool cache
  int rx_ring_size = 1024;     // RX descriptors per queue
  int burst = 32;              // frames asked per rte_eth_rx_burst
};

// Reads a [capture.dpdk] table: eal_args, port (integer or string),
// rx_queues, mbuf_pool_size, mbuf_cache, rx_ring_size, burst. Unknown keys,
// wrong types and out-of-range values are recorded in `errors` with their line.
DpdkCaptureConfig parse_dpdk_capture_config(const toml::table& section, ConfigErrors& errors);

// Whether this agent was built with the DPDK backend (-DIPATTRIB_WITH_DPDK).
bool dpdk_backend_built();

}  // namespace ipattrib::agent
