// open_packet_source: the one place that turns a [capture] config into a
// PacketSource, so the agent does not need to know which backends exist.
#pragma once

#include <memory>
#include <string>

#include "agent/capture/capture_config.h"
#include "agent/capture/packet_source.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// backend = "dpdk": the whole [capture.dpdk] port as one source, unless the
// command line named a file or interface (--read / --interface), which are
// read as pcap files or interfaces. Otherwise config.read_file when set — with
// PcapFileReader when it is a classic pcap file and file_reader is not
// "libpcap", else with libpcap (the log says which) — else libpcap live on
// config.interface. Returns nullptr and sets `status` when the source
// cannot be opened.
std::unique_ptr<PacketSource> open_packet_source(const CaptureConfig& config, Status& status);

// What can be checked of the source without opening it (--check-config):
// with backend = "dpdk", that this agent's DPDK module loads.
Status check_packet_source(const CaptureConfig& config);

// What open_packet_source reads, for the log: "file F", "interface I" or
// "DPDK port P".
std::string capture_description(const CaptureConfig& config);

}  // namespace ipattrib::agent
