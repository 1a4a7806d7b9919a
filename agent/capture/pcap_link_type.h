// Maps pcap/pcapng link-layer header type numbers (DLT_* / LINKTYPE_*) to the
// LinkType the decoder understands. Kept free of libpcap so the decoder, the
// DPDK source and tests can use it.
#pragma once

#include <optional>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent {

// nullopt for a link type the decoder cannot read (802.11, PPP, USB, ...).
std::optional<LinkType> link_type_from_dlt(int dlt);

}  // namespace ipattrib::agent
