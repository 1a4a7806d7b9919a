// PcapSource: the libpcap PacketSource — a live interface, or a pcap/pcapng
// file read at full speed — with an optional BPF filter either way. Frames
// are zero-copy views into libpcap's buffer, so a burst holds one frame.
// Counters: capture.frames, capture.bytes (wire length of the frames read),
// capture.kernel_drops and capture.interface_drops (live only; from
// pcap_stats, cumulative since open).
#pragma once

#include <memory>
#include <string>

#include "agent/capture/capture_config.h"
#include "agent/capture/packet_source.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// Opens a capture file (pcap or pcapng; timestamps in microseconds). Returns
// nullptr and sets `status` when the file cannot be read, the filter does not
// compile, or its link type is one the decoder cannot read.
std::unique_ptr<PacketSource> open_pcap_file(const std::string& path, const std::string& filter, Status& status);

// Opens config.interface live with the config's snaplen, buffer, timeout,
// promiscuous and immediate settings and filter. Activation warnings (e.g.
// promiscuous mode unsupported) are logged; errors (no such device, no
// permission, bad filter, unsupported link type) return nullptr and `status`.
std::unique_ptr<PacketSource> open_pcap_live(const CaptureConfig& config, Status& status);

}  // namespace ipattrib::agent
