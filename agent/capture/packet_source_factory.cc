#include "agent/capture/packet_source_factory.h"

#include "agent/capture/pcap_source.h"

namespace ipattrib::agent {

std::unique_ptr<PacketSource> open_packet_source(const CaptureConfig& config, Status& status) {
  if (!config.read_file.empty()) return open_pcap_file(config.read_file, config.filter, status);
  return open_pcap_live(config, status);
}

}  // namespace ipattrib::agent
