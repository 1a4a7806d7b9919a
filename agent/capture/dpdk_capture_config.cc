#include "agent/capture/dpdk_capture_config.h"

#include <string>

namespace ipattrib::agent {

DpdkCaptureConfig parse_dpdk_capture_config(const toml::table& section, ConfigErrors& errors) {
  DpdkCaptureConfig config;
  errors.reject_unknown_keys(
      section, {"eal_args", "port", "rx_queues", "mbuf_pool_size", "mbuf_cache", "rx_ring_size", "burst"},
      "[capture.dpdk]");
  if (auto v = errors.get_string_array(section, "eal_args")) config.eal_args = *v;
  if (const toml::node* port = section.get("port")) {
    if (auto index = port->value_exact<std::int64_t>()) {
      if (*index < 0 || *index > 65535) {
        errors.add_at(*port, "[capture.dpdk] port must be a port index 0..65535 or a device name");
      } else {
        config.port = std::to_string(*index);
      }
    } else if (auto name = port->value_exact<std::string>(); name && !name->empty()) {
      config.port = *name;
    } else {
      errors.add_at(*port, "[capture.dpdk] port must be a port index or a device name such as \"0000:03:00.0\"");
    }
  }
  // Limits: what one port's queues and a 32-bit mempool count can hold.
  if (auto v = errors.get_int(section, "rx_queues", 1, 128)) config.rx_queues = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "mbuf_pool_size", 1023, 16 << 20)) config.mbuf_pool_size = static_cast<int>(*v);
  // RTE_MEMPOOL_CACHE_MAX_SIZE is 512.
  if (auto v = errors.get_int(section, "mbuf_cache", 0, 512)) config.mbuf_cache = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "rx_ring_size", 64, 32768)) config.rx_ring_size = static_cast<int>(*v);
  if (auto v = errors.get_int(section, "burst", 1, 512)) config.burst = static_cast<int>(*v);
  if (config.mbuf_pool_size < config.rx_queues * config.rx_ring_size + config.burst + config.mbuf_cache) {
    errors.add_at(section.get("mbuf_pool_size") != nullptr ? *section.get("mbuf_pool_size") : section,
                  "[capture.dpdk] mbuf_pool_size must hold every RX ring (rx_queues * rx_ring_size) plus a burst "
                  "and the cache, or the NIC runs out of buffers (rx_nombuf)");
  }
  return config;
}

bool dpdk_backend_built() {
#ifdef IPATTRIB_WITH_DPDK
  return true;
#else
  return false;
#endif
}

}  // namespace ipattrib::agent
