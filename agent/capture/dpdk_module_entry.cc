// The DPDK capture module's one exported symbol (dpdk_module.h).
#include "agent/capture/dpdk_module.h"
#include "agent/capture/dpdk_source.h"

namespace ipattrib::agent {
namespace {

PacketSource* open_source(const CaptureConfig& config, Status& status) {
  return open_dpdk_source(config, status).release();
}

constexpr DpdkModuleInterface kInterface{IPATTRIB_VERSION, sizeof(CaptureConfig), sizeof(Status),
                                         sizeof(PacketSource), &open_source};

}  // namespace
}  // namespace ipattrib::agent

extern "C" __attribute__((visibility("default"))) const ipattrib::agent::DpdkModuleInterface* ipattrib_dpdk_module() {
  return &ipattrib::agent::kInterface;
}
