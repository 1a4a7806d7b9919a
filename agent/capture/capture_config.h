// CaptureConfig: the [capture] section of the agent config — where frames
// come from (a live interface or a capture file), which of them (a BPF
// filter) and how the kernel buffers them.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "agent/capture/dpdk_capture_config.h"
#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

// Which library reads frames: libpcap (interface or read) or DPDK
// ([capture.dpdk]; only in agents built with DPDK).
enum class CaptureBackend : std::uint8_t { kPcap, kDpdk };

// Which code reads a capture file (read / --read): kAuto reads classic pcap
// files in chunks into one buffer and hands out views into it, kMmap maps
// them instead (PcapFileReader either way), and both leave the rest
// (pcapng, stdin, ...) to libpcap; kLibpcap reads every file with libpcap.
enum class FileReader : std::uint8_t { kAuto, kMmap, kLibpcap };

struct CaptureConfig {
  CaptureBackend backend = CaptureBackend::kPcap;
  std::string interface;  // live capture on this interface ("eth0", "any")
  std::string read_file;  // or: read this pcap/pcapng file (key "read")
  FileReader file_reader = FileReader::kAuto;  // key "file_reader": "auto", "mmap" or "libpcap"
  std::string filter;     // BPF, tcpdump syntax; empty: every frame
  // Bytes kept per frame. Request heads may span a whole segment, so the
  // default keeps everything a 64 KiB GRO/TSO segment can hold.
  int snaplen = 65535;
  bool promiscuous = false;  // a gateway sees its own traffic without it
  // Deliver frames as they arrive instead of when the kernel block fills;
  // costs a little CPU, keeps timestamps and stats live on quiet links.
  bool immediate = true;
  int buffer_size_bytes = 32 << 20;  // kernel ring ([capture] buffer_size_mb)
  // How long a read may block, so the caller can service timers and signals.
  int read_timeout_ms = 100;
  DpdkCaptureConfig dpdk;  // backend = "dpdk"
};

// Reads a [capture] table: backend ("pcap" or "dpdk"), interface, read,
// file_reader ("auto", "mmap" or "libpcap"), filter, snaplen, promiscuous,
// immediate, buffer_size_mb, read_timeout_ms and the [capture.dpdk] table.
// Absent keys keep their defaults; interface and read together, backend =
// "dpdk" with interface or read or in a build without DPDK, wrong types,
// out-of-range or unknown values and unknown keys are recorded in `errors`
// with their line.
CaptureConfig parse_capture_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
