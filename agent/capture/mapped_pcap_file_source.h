// MappedPcapFileSource: the --read PacketSource for classic pcap files. The
// file is memory-mapped and each frame is a view into the mapping, so a
// burst holds many frames and no byte is copied: libpcap's fread copies every
// record out of the page cache. Frames, timestamps (ns files divided down to
// µs), captured and wire lengths, the BPF filter (libpcap's own compiler and
// interpreter), counters (capture.frames, capture.bytes, and the
// capture.kernel_drops / capture.interface_drops a file never has) and the
// handling of damaged files are the libpcap PcapSource's: whole records
// before the damage are delivered, then kError with libpcap's words plus the
// file and byte offset. The file is read as it was when opened: records
// appended later are not seen, and a file truncated while mapped faults.
#pragma once

#include <memory>
#include <string>

#include "agent/capture/packet_source.h"

namespace ipattrib::agent {

// Opens `path` when it is a classic pcap file this reader takes
// (parse_pcap_file_header) and `filter` compiles for it. Otherwise nullptr
// with the reason in `why_not`, and libpcap should read the file (stdin,
// pcapng, unreadable or odd files, bad filters: libpcap then reports what is
// wrong in its own words).
std::unique_ptr<PacketSource> open_mapped_pcap_file(const std::string& path, const std::string& filter,
                                                    std::string& why_not);

}  // namespace ipattrib::agent
