#include "agent/capture/packet_source_factory.h"

#include <spdlog/spdlog.h>

#include "agent/capture/pcap_file_reader.h"
#include "agent/capture/pcap_source.h"
#ifdef IPATTRIB_WITH_DPDK
#include "agent/capture/dpdk_module.h"
#endif

namespace ipattrib::agent {
namespace {

// Classic pcap files are read by PcapFileReader (in chunks, or mapped
// with file_reader = "mmap"); whatever it does not take (pcapng, stdin, odd
// headers, a filter it cannot compile) goes to libpcap, which reads it or
// says what is wrong with it.
std::unique_ptr<PacketSource> open_capture_file(const CaptureConfig& config, Status& status) {
  if (config.file_reader == FileReader::kLibpcap) {
    spdlog::info("capture: reading {} with libpcap ([capture] file_reader = \"libpcap\")", config.read_file);
    return open_pcap_file(config.read_file, config.filter, status);
  }
  std::string why_not;
  PcapFileReadOptions options;
  options.map = config.file_reader == FileReader::kMmap;
  if (auto source = open_pcap_file_reader(config.read_file, config.filter, why_not, options)) {
    spdlog::info("capture: reading {} with the zero-copy pcap reader ({})", config.read_file,
                 options.map ? "memory-mapped" : "chunked reads");
    status = Status::ok();
    return source;
  }
  spdlog::info("capture: reading {} with libpcap ({})", config.read_file, why_not);
  return open_pcap_file(config.read_file, config.filter, status);
}

// backend = "dpdk" reads the port unless the command line named a file or
// an interface (--read / --interface mean libpcap, whatever the backend).
bool reads_dpdk_port(const CaptureConfig& config) {
  return config.backend == CaptureBackend::kDpdk && config.read_file.empty() && config.interface.empty();
}

}  // namespace

std::unique_ptr<PacketSource> open_packet_source(const CaptureConfig& config, Status& status) {
  if (reads_dpdk_port(config)) {
#ifdef IPATTRIB_WITH_DPDK
    return open_dpdk_module_source(config, status);
#else
    status = Status::error("this agent was built without DPDK (-DIPATTRIB_WITH_DPDK=OFF)");
    return nullptr;
#endif
  }
  if (!config.read_file.empty()) return open_capture_file(config, status);
  return open_pcap_live(config, status);
}

Status check_packet_source(const CaptureConfig& config) {
#ifdef IPATTRIB_WITH_DPDK
  if (reads_dpdk_port(config)) return check_dpdk_module();
#else
  (void)config;  // parse_capture_config refused backend = "dpdk" already
#endif
  return Status::ok();
}

std::string capture_description(const CaptureConfig& config) {
  if (!config.read_file.empty()) return "file " + config.read_file;
  if (!config.interface.empty()) return "interface " + config.interface;
  if (config.backend == CaptureBackend::kDpdk) return "DPDK port " + config.dpdk.port;
  return "nothing";
}

}  // namespace ipattrib::agent
