// DpdkPort and its queue sources: the DPDK PacketSource. A DpdkPort is one
// started ethdev port (EAL, mbuf pool, RX queues with symmetric RSS where the
// device has RSS); open_queues() gives a PacketSource reading some of its
// queues, so one source can read the whole port or each worker its own queue.
// The whole-port source's split_by_flow() does the latter when the port's
// queues are spread symmetrically (RSS or kernel fanout) and there are at
// least as many as workers. Frames are zero-copy views into mbufs, freed at
// the source's next read. A source's counters may be reported from any thread.
//
// Counters of a source: capture.frames, capture.bytes, capture.dpdk_linearized
// (multi-segment frames copied into one buffer), capture.dpdk_queue<N>_packets
// per queue read; the source that reads queue 0 adds the port's
// capture.dpdk_imissed (the NIC had no free descriptor), capture.dpdk_rx_nombuf
// (no mbuf in the pool) and capture.dpdk_ierrors (frames the NIC found bad).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/capture/capture_config.h"
#include "agent/capture/packet_source.h"
#include "ipattrib/status.h"

struct rte_mempool;

namespace ipattrib::agent {

class DpdkPort : public std::enable_shared_from_this<DpdkPort> {
 public:
  // Starts the EAL (first call in the process only) with config.dpdk.eal_args,
  // then configures and starts config.dpdk.port. Returns nullptr and sets
  // `status` when the EAL, the port, the pool or a queue cannot be set up.
  static std::shared_ptr<DpdkPort> open(const CaptureConfig& config, Status& status);
  // Stops and closes the port (a closed port cannot be opened again in this
  // process) and frees its pool; sources hold the port, so it goes last.
  ~DpdkPort();
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  std::uint16_t port_id() const { return port_id_; }
  // Queues configured: config.dpdk.rx_queues, at most what the device has,
  // and 1 when it has no RSS (then a software flow hash has to spread the
  // work). net_af_packet needs no RSS: its kernel fanout hash is symmetric.
  std::uint16_t rx_queues() const { return rx_queues_; }
  // Whether both directions of a flow reach the same queue (several queues
  // spread by the symmetric key or the kernel fanout).
  bool symmetric_rss() const { return symmetric_rss_; }
  const std::string& driver() const { return driver_; }
  // net_pcap reading a file (rx_pcap=, no infinite_rx=1): its frames carry
  // the file's timestamps, and an empty burst means the file is done.
  bool offline_file() const { return offline_file_; }

  // A source reading `queues` in turn (each < rx_queues(); a queue must be
  // read by one source only). nullptr and `status` on a bad queue list.
  std::unique_ptr<PacketSource> open_queues(const std::vector<std::uint16_t>& queues, Status& status);

 private:
  DpdkPort(const CaptureConfig& config, std::uint16_t port_id);
  Status start();

  CaptureConfig config_;
  std::uint16_t port_id_;
  std::uint16_t rx_queues_ = 1;
  bool symmetric_rss_ = false;
  bool started_ = false;
  bool offline_file_ = false;
  std::string driver_;
  rte_mempool* pool_ = nullptr;
};

// The whole port as one source: DpdkPort::open, then all its queues.
std::unique_ptr<PacketSource> open_dpdk_source(const CaptureConfig& config, Status& status);

}  // namespace ipattrib::agent
