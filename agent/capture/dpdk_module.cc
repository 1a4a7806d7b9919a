#include "agent/capture/dpdk_module.h"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ipattrib::agent {
namespace {

struct LoadedModule {
  const DpdkModuleInterface* interface = nullptr;
  std::string error;
};

LoadedModule load_module() {
  const std::string path = dpdk_module_path();
  // RTLD_LOCAL: DPDK's symbols stay out of the agent's namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    // dlerror names the file.
    return {nullptr, fmt::format("cannot load the DPDK capture module: {} (is the agent package complete?)",
                                 why != nullptr ? why : path)};
  }
  using Entry = const DpdkModuleInterface* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, kDpdkModuleSymbol));
  const DpdkModuleInterface* module = entry != nullptr ? entry() : nullptr;
  if (module == nullptr) return {nullptr, fmt::format("{} is not an ipattrib DPDK capture module", path)};
  if (std::strcmp(module->version, IPATTRIB_VERSION) != 0 || module->config_size != sizeof(CaptureConfig) ||
      module->status_size != sizeof(Status) || module->source_size != sizeof(PacketSource)) {
    return {nullptr, fmt::format("{} is from another build (version {}, this agent is {}): install the agent and "
                                 "its module from the same package",
                                 path, module->version, IPATTRIB_VERSION)};
  }
  spdlog::info("capture: loaded the DPDK capture module {}", path);
  return {module, {}};
}

const LoadedModule& loaded_module() {
  static std::once_flag once;
  static LoadedModule module;
  std::call_once(once, [] { module = load_module(); });
  return module;
}

}  // namespace

std::string dpdk_module_path() {
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path bin = error ? std::filesystem::path(".") : exe.parent_path();
  return (bin.parent_path() / "lib" / "ipattrib" / "ipattrib-capture-dpdk.so").string();
}

std::unique_ptr<PacketSource> open_dpdk_module_source(const CaptureConfig& config, Status& status) {
  const LoadedModule& module = loaded_module();
  if (module.interface == nullptr) {
    status = Status::error(module.error);
    return nullptr;
  }
  return std::unique_ptr<PacketSource>(module.interface->open_source(config, status));
}

Status check_dpdk_module() {
  const LoadedModule& module = loaded_module();
  return module.interface != nullptr ? Status::ok() : Status::error(module.error);
}

}  // namespace ipattrib::agent
