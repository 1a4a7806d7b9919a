// CaptureConfig: the [capture] section of the agent config — where frames
// come from (a live interface or a capture file), which of them (a BPF
// filter) and how the kernel buffers them.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct CaptureConfig {
  std::string interface;  // live capture on this interface ("eth0", "any")
  std::string read_file;  // or: read this pcap/pcapng file (key "read")
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
};

// Reads a [capture] table: interface, read, filter, snaplen, promiscuous,
// immediate, buffer_size_mb, read_timeout_ms. Absent keys keep their
// defaults; interface and read together, wrong types, out-of-range values and
// unknown keys are recorded in `errors` with their line.
CaptureConfig parse_capture_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
