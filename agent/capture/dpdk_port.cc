// DpdkPort: EAL, port lookup, RSS and queue setup. The RX path is in
// dpdk_source.cc.
#include <fmt/format.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <string_view>

#include "agent/capture/dpdk_eal.h"
#include "agent/capture/dpdk_source.h"

namespace ipattrib::agent {
namespace {

// The Toeplitz key 0x6d5a repeated hashes (src, dst) and (dst, src) alike,
// so both directions of a connection reach the same queue (Woo and Park,
// "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling").
constexpr std::size_t kMaxRssKey = 52;
std::array<std::uint8_t, kMaxRssKey> symmetric_rss_key() {
  std::array<std::uint8_t, kMaxRssKey> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = i % 2 == 0 ? 0x6d : 0x5a;
  return key;
}

Status find_port(const std::string& port, std::uint16_t& port_id) {
  unsigned index = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), index);
  if (ec == std::errc() && end == port.data() + port.size()) {
    if (index > RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(index))) {
      return Status::error(fmt::format("no DPDK port {} ({} ports available; bind the NIC to vfio-pci or add a "
                                       "--vdev to eal_args)",
                                       index, rte_eth_dev_count_avail()));
    }
    port_id = static_cast<std::uint16_t>(index);
    return Status::ok();
  }
  if (rte_eth_dev_get_port_by_name(port.c_str(), &port_id) != 0) {
    return Status::error(fmt::format("no DPDK port named '{}' ({} ports available)", port, rte_eth_dev_count_avail()));
  }
  return Status::ok();
}

bool reads_a_pcap_file(const rte_eth_dev_info& info) {
  if (std::string_view(info.driver_name) != "net_pcap" || info.device == nullptr) return false;
  const rte_devargs* devargs = rte_dev_devargs(info.device);
  if (devargs == nullptr || devargs->args == nullptr) return false;
  const std::string_view args(devargs->args);
  return args.find("rx_pcap=") != std::string_view::npos && args.find("infinite_rx=1") == std::string_view::npos;
}

}  // namespace

DpdkPort::DpdkPort(const CaptureConfig& config, std::uint16_t port_id) : config_(config), port_id_(port_id) {}

std::shared_ptr<DpdkPort> DpdkPort::open(const CaptureConfig& config, Status& status) {
  status = init_dpdk_eal(config.dpdk.eal_args);
  std::uint16_t port_id = 0;
  if (status) status = find_port(config.dpdk.port, port_id);
  if (!status) return nullptr;
  std::shared_ptr<DpdkPort> port(new DpdkPort(config, port_id));
  status = port->start();
  if (!status) {
    status = Status::error(fmt::format("DPDK port {}: {}", config.dpdk.port, status.message()));
    return nullptr;
  }
  return port;
}

Status DpdkPort::start() {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port_id_, &info); rc != 0) {
    return Status::error(fmt::format("cannot read device info: {}", rte_strerror(-rc)));
  }
  driver_ = info.driver_name;
  offline_file_ = reads_a_pcap_file(info);
  const auto& dpdk = config_.dpdk;

  rte_eth_conf conf{};
  std::array<std::uint8_t, kMaxRssKey> key = symmetric_rss_key();
  rx_queues_ = static_cast<std::uint16_t>(std::min<int>(dpdk.rx_queues, std::max<int>(info.max_rx_queues, 1)));
  const std::uint64_t hash_fields = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
  // net_af_packet spreads its queues with a PACKET_FANOUT_HASH group, whose
  // kernel flow hash is symmetric: several queues need no RSS there.
  const bool kernel_fanout = driver_ == "net_af_packet";
  if (rx_queues_ > 1 && hash_fields == 0 && !kernel_fanout) {
    spdlog::warn("dpdk: {} has no RSS; reading 1 queue instead of {} (flows are spread in software)", driver_,
                 dpdk.rx_queues);
    rx_queues_ = 1;
  } else if (rx_queues_ < dpdk.rx_queues) {
    spdlog::warn("dpdk: {} has {} RX queues; using {} instead of {}", driver_, info.max_rx_queues, rx_queues_,
                 dpdk.rx_queues);
  }
  if (rx_queues_ > 1 && kernel_fanout) {
    symmetric_rss_ = true;
  } else if (rx_queues_ > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<std::uint8_t>(info.hash_key_size > 0 ? info.hash_key_size : 40);
    conf.rx_adv_conf.rss_conf.rss_hf = hash_fields;
    symmetric_rss_ = conf.rx_adv_conf.rss_conf.rss_key_len <= kMaxRssKey;
    if (!symmetric_rss_) conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // device default key: not symmetric
  }
  // Frames longer than one mbuf arrive as chains instead of being dropped.
  conf.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;

  if (int rc = rte_eth_dev_configure(port_id_, rx_queues_, 0, &conf); rc != 0) {
    return Status::error(fmt::format("cannot configure {} RX queues: {}", rx_queues_, rte_strerror(-rc)));
  }
  std::uint16_t ring = static_cast<std::uint16_t>(dpdk.rx_ring_size);
  std::uint16_t no_tx = 0;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id_, &ring, &no_tx); rc != 0) {
    return Status::error(fmt::format("cannot size the RX ring: {}", rte_strerror(-rc)));
  }
  static std::atomic<int> pools{0};
  const std::string pool_name = fmt::format("ipattrib_rx{}_{}", port_id_, pools.fetch_add(1));
  const int socket = rte_eth_dev_socket_id(port_id_);
  pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), static_cast<unsigned>(dpdk.mbuf_pool_size),
                                  static_cast<unsigned>(dpdk.mbuf_cache), 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  socket < 0 ? SOCKET_ID_ANY : socket);
  if (pool_ == nullptr) {
    return Status::error(fmt::format("cannot create a pool of {} mbufs: {} (with --no-huge, raise -m; else "
                                     "reserve more hugepages)",
                                     dpdk.mbuf_pool_size, rte_strerror(rte_errno)));
  }
  for (std::uint16_t q = 0; q < rx_queues_; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port_id_, q, ring, static_cast<unsigned>(socket < 0 ? SOCKET_ID_ANY : socket),
                                        nullptr, pool_);
        rc != 0) {
      return Status::error(fmt::format("cannot set up RX queue {}: {}", q, rte_strerror(-rc)));
    }
  }
  if (int rc = rte_eth_dev_start(port_id_); rc != 0) {
    return Status::error(fmt::format("cannot start: {}", rte_strerror(-rc)));
  }
  started_ = true;
  // A capture port sees traffic for other MACs (a SPAN/TAP feed); virtual
  // devices that cannot do it still deliver what they have.
  if (int rc = rte_eth_promiscuous_enable(port_id_); rc != 0 && rc != -ENOTSUP) {
    spdlog::warn("dpdk: cannot enable promiscuous mode on port {}: {}", port_id_, rte_strerror(-rc));
  }
  spdlog::info("dpdk: port {} ({}) started: {} RX queue(s){}, ring {}, pool {} mbufs{}", port_id_, driver_,
               rx_queues_, symmetric_rss_ ? " with symmetric RSS" : "", ring, dpdk.mbuf_pool_size,
               offline_file_ ? ", reading a capture file" : "");
  return Status::ok();
}

DpdkPort::~DpdkPort() {
  if (started_) {
    if (int rc = rte_eth_dev_stop(port_id_); rc != 0) spdlog::warn("dpdk: stopping port {}: {}", port_id_, rte_strerror(-rc));
  }
  rte_eth_dev_close(port_id_);
  rte_mempool_free(pool_);
}

std::unique_ptr<PacketSource> open_dpdk_source(const CaptureConfig& config, Status& status) {
  std::shared_ptr<DpdkPort> port = DpdkPort::open(config, status);
  if (!port) return nullptr;
  std::vector<std::uint16_t> queues(port->rx_queues());
  for (std::uint16_t q = 0; q < queues.size(); ++q) queues[q] = q;
  return port->open_queues(queues, status);
}

}  // namespace ipattrib::agent
