#include "agent/capture/capture_config.h"

namespace ipattrib::agent {

CaptureConfig parse_capture_config(const toml::table& section, ConfigErrors& errors) {
  CaptureConfig config;
  errors.reject_unknown_keys(
      section,
      {"backend", "dpdk", "interface", "read", "file_reader", "filter", "snaplen", "promiscuous", "immediate", "buffer_size_mb", "read_timeout_ms"},
      "[capture]");
  if (auto v = errors.get_string(section, "backend")) {
    if (*v == "dpdk") {
      config.backend = CaptureBackend::kDpdk;
      if (!dpdk_backend_built()) {
        errors.add_at(*section.get("backend"),
                      "[capture] backend = \"dpdk\": this agent was built without DPDK (-DIPATTRIB_WITH_DPDK=OFF); "
                      "use backend = \"pcap\"");
      }
    } else if (*v != "pcap") {
      errors.add_at(*section.get("backend"), "[capture] backend must be \"pcap\" or \"dpdk\"");
    }
  }
  if (const toml::table* dpdk = errors.get_table(section, "dpdk")) config.dpdk = parse_dpdk_capture_config(*dpdk, errors);
  if (auto v = errors.get_string(section, "interface")) config.interface = *v;
  if (auto v = errors.get_string(section, "read")) config.read_file = *v;
  if (!config.interface.empty() && !config.read_file.empty()) {
    errors.add_at(*section.get("read"), "[capture] takes 'interface' or 'read', not both");
  }
  if (config.backend == CaptureBackend::kDpdk && (!config.interface.empty() || !config.read_file.empty())) {
    errors.add_at(*section.get(config.interface.empty() ? "read" : "interface"),
                  "[capture] backend = \"dpdk\" reads the [capture.dpdk] port; 'interface' and 'read' are for pcap");
  }
  if (auto v = errors.get_string(section, "file_reader")) {
    if (*v == "libpcap") {
      config.file_reader = FileReader::kLibpcap;
    } else if (*v == "mmap") {
      config.file_reader = FileReader::kMmap;
    } else if (*v != "auto") {
      errors.add_at(*section.get("file_reader"), "[capture] file_reader must be \"auto\", \"mmap\" or \"libpcap\"");
    }
  }
  if (auto v = errors.get_string(section, "filter")) config.filter = *v;
  // Below 128 bytes a TCP segment's headers may not fit; libpcap caps at 256 KiB.
  if (auto v = errors.get_int(section, "snaplen", 128, 262144)) config.snaplen = static_cast<int>(*v);
  if (auto v = errors.get_bool(section, "promiscuous")) config.promiscuous = *v;
  if (auto v = errors.get_bool(section, "immediate")) config.immediate = *v;
  // pcap_set_buffer_size takes an int of bytes: 2047 MiB is the most it holds.
  if (auto v = errors.get_int(section, "buffer_size_mb", 1, 2047))
    config.buffer_size_bytes = static_cast<int>(*v) << 20;
  if (auto v = errors.get_int(section, "read_timeout_ms", 1, 10000)) config.read_timeout_ms = static_cast<int>(*v);
  return config;
}

}  // namespace ipattrib::agent
