// The DPDK backend is a module of its own, ipattrib-capture-dpdk.so, that
// the agent loads with dlopen the first time a [capture] backend = "dpdk"
// source is opened. An agent reading pcap never maps DPDK's libraries:
// linked into the agent they were nine more shared objects to load, relocate
// (Debian builds them with BIND_NOW) and run constructors for at every start,
// ~10 ms of the ~36 ms an agent took to start and stop on an empty capture.
//
// The module is installed as <prefix>/lib/ipattrib/ipattrib-capture-dpdk.so
// beside <prefix>/bin/ipattrib-agent, and built as lib/ipattrib/ in the
// build tree beside bin/; the agent looks for it relative to its own
// executable. A module from another build is refused (version and the sizes
// of the structures passed across differ).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "agent/capture/capture_config.h"
#include "agent/capture/packet_source.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// What the module exports, as the C symbol kDpdkModuleSymbol.
struct DpdkModuleInterface {
  const char* version;        // IPATTRIB_VERSION of the build that made it
  std::size_t config_size;    // sizeof(CaptureConfig) there
  std::size_t status_size;    // sizeof(Status) there
  std::size_t source_size;    // sizeof(PacketSource) there
  // open_dpdk_source (dpdk_source.h); the caller owns the result.
  PacketSource* (*open_source)(const CaptureConfig& config, Status& status);
};
inline constexpr const char* kDpdkModuleSymbol = "ipattrib_dpdk_module";

// Where the agent looks for the module: lib/ipattrib/ipattrib-capture-dpdk.so
// next to the bin/ directory of the running executable.
std::string dpdk_module_path();

// Loads the module (once per process; it is never unloaded, the EAL cannot
// be) and opens config's DPDK port through it. nullptr and `status` when the
// module is missing, from another build, or the port cannot be opened.
std::unique_ptr<PacketSource> open_dpdk_module_source(const CaptureConfig& config, Status& status);

// Loads the module without opening anything (--check-config): ok, or why
// open_dpdk_module_source would fail before reaching the port.
Status check_dpdk_module();

}  // namespace ipattrib::agent
