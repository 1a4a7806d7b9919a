// PcapFileReader: the --read PacketSource for classic pcap files,
// zero-copy per packet. By default the file is read in chunks of 256 KiB by
// a read-ahead thread (ReadAheadFile) while the caller works on the chunk
// before; with PcapFileReadOptions::map it is memory-mapped. Either way each frame is a view into those bytes, so a burst
// holds many frames and no byte is copied per packet: libpcap's fread copies
// every record twice and returns one per call. Frames, timestamps (ns files
// divided down to µs), captured and wire lengths, the BPF filter (libpcap's
// own compiler and interpreter), counters (capture.frames, capture.bytes, and
// the capture.kernel_drops / capture.interface_drops a file never has) and
// the handling of damaged files are the libpcap PcapSource's: whole records
// before the damage are delivered, then kError with libpcap's words plus the
// file and byte offset. The file's size is taken at open: records appended
// later are not seen; a mapped file truncated meanwhile faults.
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
struct PcapFileReadOptions {
  // Map the whole file (frames are views into the mapping) instead of
  // reading it in chunks ahead of the caller (frames are views into a chunk).
  bool map = false;
  std::size_t read_chunk_bytes = 256 << 10;  // per read(2); tests make it tiny
};

std::unique_ptr<PacketSource> open_pcap_file_reader(const std::string& path, const std::string& filter,
                                                    std::string& why_not, const PcapFileReadOptions& options = {});

}  // namespace ipattrib::agent
