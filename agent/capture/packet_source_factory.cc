#include "agent/capture/packet_source_factory.h"

#include "agent/capture/pcap_source.h"
#ifdef IPATTRIB_WITH_DPDK
#include "agent/capture/dpdk_source.h"
#endif

namespace ipattrib::agent {

std::unique_ptr<PacketSource> open_packet_source(const CaptureConfig& config, Status& status) {
  // --read / --interface on the command line mean libpcap, whatever the backend.
  if (config.backend == CaptureBackend::kDpdk && config.read_file.empty() && config.interface.empty()) {
#ifdef IPATTRIB_WITH_DPDK
    return open_dpdk_source(config, status);
#else
    status = Status::error("this agent was built without DPDK (-DIPATTRIB_WITH_DPDK=OFF)");
    return nullptr;
#endif
  }
  if (!config.read_file.empty()) return open_pcap_file(config.read_file, config.filter, status);
  return open_pcap_live(config, status);
}

std::string capture_description(const CaptureConfig& config) {
  if (!config.read_file.empty()) return "file " + config.read_file;
  if (!config.interface.empty()) return "interface " + config.interface;
  if (config.backend == CaptureBackend::kDpdk) return "DPDK port " + config.dpdk.port;
  return "nothing";
}

}  // namespace ipattrib::agent
