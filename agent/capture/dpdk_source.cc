// The DPDK RX path: DpdkQueueSource polls its queues and hands the decoder
// views into the mbufs it received.
#include "agent/capture/dpdk_source.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>

#include <algorithm>
#include <atomic>
#include <ctime>

namespace ipattrib::agent {
namespace {

// An offline net_pcap port returns an empty burst only at the end of its
// file or when the pool is empty; a few in a row with no rx_nombuf is the end.
constexpr int kEmptyPollsAtEnd = 3;

std::int64_t wall_clock_us() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t{now.tv_sec} * 1000000 + now.tv_nsec / 1000;
}

// The optional BPF filter, run in software on each frame (DPDK has none).
class SoftwareFilter {
 public:
  Status compile(const std::string& filter, int snaplen) {
    if (filter.empty()) return Status::ok();
    dead_ = pcap_open_dead(DLT_EN10MB, snaplen);
    if (dead_ == nullptr || pcap_compile(dead_, &program_, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return Status::error(fmt::format("bad capture filter '{}': {}", filter,
                                       dead_ != nullptr ? pcap_geterr(dead_) : "out of memory"));
    }
    compiled_ = true;
    return Status::ok();
  }
  ~SoftwareFilter() {
    if (compiled_) pcap_freecode(&program_);
    if (dead_ != nullptr) pcap_close(dead_);
  }
  bool accepts(const RawFrame& frame) const {
    if (!compiled_) return true;
    pcap_pkthdr header{};
    header.caplen = static_cast<bpf_u_int32>(frame.data.size());
    header.len = frame.wire_length;
    return pcap_offline_filter(&program_, &header, frame.data.data()) != 0;
  }

 private:
  pcap_t* dead_ = nullptr;
  bpf_program program_{};
  bool compiled_ = false;
};

class DpdkQueueSource final : public PacketSource {
 public:
  DpdkQueueSource(std::shared_ptr<DpdkPort> port, std::vector<std::uint16_t> queues, const CaptureConfig& config)
      : port_(std::move(port)),
        port_id_(port_->port_id()),
        queues_(std::move(queues)),
        reports_port_(std::find(queues_.begin(), queues_.end(), 0) != queues_.end()),
        burst_(static_cast<std::uint16_t>(config.dpdk.burst)),
        timeout_cycles_(rte_get_tsc_hz() / 1000 * static_cast<std::uint64_t>(config.read_timeout_ms)),
        mbufs_(burst_),
        scratch_(burst_),
        queue_packets_(std::make_unique<std::atomic<std::uint64_t>[]>(queues_.size())) {
    // net_pcap stamps each mbuf with its pcap record's time (microseconds
    // since the epoch); other devices' clocks are their own, so those frames
    // get the wall clock of their burst.
    if (port_->driver() == "net_pcap") {
      ts_offset_ = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr);
      const int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
      ts_flag_ = bit >= 0 ? std::uint64_t{1} << bit : 0;
    }
  }

  ~DpdkQueueSource() override { release_held(); }

  Status compile_filter(const std::string& filter, int snaplen) { return filter_.compile(filter, snaplen); }

  LinkType link_type() const override { return LinkType::kEthernet; }

  std::size_t read_burst(std::span<RawFrame> out, ReadStatus& status) override {
    release_held();  // the caller is done with the previous burst's views
    std::uint64_t deadline = 0;
    while (!stopped_.load(std::memory_order_relaxed)) {
      if (out.empty()) {
        status = ReadStatus::kFrames;
        return 0;
      }
      const std::uint16_t want = static_cast<std::uint16_t>(std::min<std::size_t>(out.size(), burst_));
      bool received = false;
      for (std::size_t i = 0; i < queues_.size(); ++i) {
        const std::size_t slot = (next_queue_ + i) % queues_.size();
        held_ = rte_eth_rx_burst(port_id_, queues_[slot], mbufs_.data(), want);
        if (held_ == 0) continue;
        received = true;
        next_queue_ = (slot + 1) % queues_.size();  // no queue starves the others
        add(queue_packets_[slot], held_);
        empty_polls_ = 0;
        if (const std::size_t n = fill(out); n > 0) {
          status = ReadStatus::kFrames;
          return n;
        }
        release_held();  // every frame filtered out
      }
      if (!received && port_->offline_file() && at_end_of_file()) break;
      // Also when a filter drops everything: the caller's timers must run.
      const std::uint64_t now = rte_get_tsc_cycles();
      if (deadline == 0) {
        deadline = now + timeout_cycles_;
      } else if (now >= deadline) {
        status = ReadStatus::kTimeout;
        return 0;
      }
      if (!received) rte_pause();
    }
    stopped_.store(true, std::memory_order_relaxed);
    status = ReadStatus::kEnd;
    return 0;
  }

  void break_loop() override { stopped_.store(true, std::memory_order_relaxed); }

  // Any thread: the counters are atomics only the reading thread writes, and
  // ethdev statistics may be read while another thread receives.
  void report(StatsSink& sink) const override {
    sink.counter("capture.frames", frames_.load(std::memory_order_relaxed));
    sink.counter("capture.bytes", bytes_.load(std::memory_order_relaxed));
    sink.counter("capture.dpdk_linearized", linearized_.load(std::memory_order_relaxed));
    for (std::size_t i = 0; i < queues_.size(); ++i) {
      sink.counter(fmt::format("capture.dpdk_queue{}_packets", queues_[i]),
                   queue_packets_[i].load(std::memory_order_relaxed));
    }
    if (!reports_port_) return;  // one source per port reports its counters
    rte_eth_stats stats{};
    if (rte_eth_stats_get(port_id_, &stats) != 0) return;
    sink.counter("capture.dpdk_imissed", stats.imissed);
    sink.counter("capture.dpdk_rx_nombuf", stats.rx_nombuf);
    sink.counter("capture.dpdk_ierrors", stats.ierrors);
  }

  const std::string& error() const override { return error_; }

  bool replays_a_file() const override { return port_->offline_file(); }

  // One part per worker when flows are spread symmetrically over at least
  // `parts` queues: queue q goes to part q % parts.
  std::vector<std::unique_ptr<PacketSource>> split_by_flow(std::size_t parts, std::string& why) override {
    std::vector<std::unique_ptr<PacketSource>> split;
    if (queues_.size() < 2 || !port_->symmetric_rss()) {
      why = fmt::format("DPDK port {} ({}) has {} RX queue(s) without symmetric RSS", port_id_, port_->driver(),
                        queues_.size());
      return split;
    }
    if (queues_.size() < parts) {
      why = fmt::format("DPDK port {} ({}) has {} RX queues for {} workers", port_id_, port_->driver(),
                        queues_.size(), parts);
      return split;
    }
    std::vector<std::vector<std::uint16_t>> assigned(parts);
    for (std::size_t i = 0; i < queues_.size(); ++i) assigned[i % parts].push_back(queues_[i]);
    for (const std::vector<std::uint16_t>& queues : assigned) {
      Status status;
      std::unique_ptr<PacketSource> part = port_->open_queues(queues, status);
      if (!part) {
        why = status.message();
        return {};
      }
      split.push_back(std::move(part));
    }
    return split;
  }

 private:
  // Turns the held mbufs into frames; returns how many passed the filter.
  std::size_t fill(std::span<RawFrame> out) {
    const std::int64_t burst_ts = wall_clock_us();
    std::size_t n = 0;
    std::uint64_t bytes = 0;
    for (std::uint16_t i = 0; i < held_; ++i) {
      rte_mbuf* m = mbufs_[i];
      RawFrame& frame = out[n];
      frame.ts_us = burst_ts;
      if (ts_flag_ != 0 && (m->ol_flags & ts_flag_) != 0) {
        frame.ts_us = static_cast<std::int64_t>(*RTE_MBUF_DYNFIELD(m, ts_offset_, rte_mbuf_timestamp_t*));
      }
      frame.wire_length = m->pkt_len;
      frame.data = m->nb_segs == 1 ? std::span<const std::uint8_t>(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len)
                                   : linearize(m, scratch_[i]);
      if (!filter_.accepts(frame)) continue;
      bytes += m->pkt_len;
      ++n;
    }
    add(frames_, n);
    add(bytes_, bytes);
    return n;
  }

  // A chained frame (longer than one mbuf) copied so the decoder sees it whole.
  std::span<const std::uint8_t> linearize(const rte_mbuf* m, std::vector<std::uint8_t>& buffer) {
    add(linearized_, 1);
    buffer.resize(m->pkt_len);
    const void* data = rte_pktmbuf_read(m, 0, m->pkt_len, buffer.data());
    return {static_cast<const std::uint8_t*>(data), m->pkt_len};
  }

  bool at_end_of_file() {
    rte_eth_stats stats{};
    if (rte_eth_stats_get(port_id_, &stats) != 0) return false;
    if (stats.rx_nombuf != last_nombuf_) {
      last_nombuf_ = stats.rx_nombuf;
      empty_polls_ = 0;
      return false;
    }
    return ++empty_polls_ >= kEmptyPollsAtEnd;
  }

  // Only the reading thread writes a counter: a plain add, published for report().
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void release_held() {
    if (held_ != 0) rte_pktmbuf_free_bulk(mbufs_.data(), held_);
    held_ = 0;
  }

  std::shared_ptr<DpdkPort> port_;  // kept open while this source reads it
  std::uint16_t port_id_;
  std::vector<std::uint16_t> queues_;
  bool reports_port_;
  std::uint16_t burst_;
  std::uint64_t timeout_cycles_;
  std::vector<rte_mbuf*> mbufs_;
  std::vector<std::vector<std::uint8_t>> scratch_;  // linearized frames, per burst slot
  std::uint16_t held_ = 0;                          // mbufs_ the caller may still be reading
  std::size_t next_queue_ = 0;
  int ts_offset_ = -1;
  std::uint64_t ts_flag_ = 0;
  SoftwareFilter filter_;
  std::atomic<bool> stopped_{false};
  int empty_polls_ = 0;
  std::uint64_t last_nombuf_ = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> queue_packets_;  // per queue read
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> linearized_{0};
  std::string error_;
};

}  // namespace

std::unique_ptr<PacketSource> DpdkPort::open_queues(const std::vector<std::uint16_t>& queues, Status& status) {
  if (queues.empty()) {
    status = Status::error("a DPDK source needs at least one queue");
    return nullptr;
  }
  for (std::uint16_t q : queues) {
    if (q >= rx_queues_) {
      status = Status::error(fmt::format("DPDK port {} has {} RX queues; there is no queue {}", port_id_, rx_queues_, q));
      return nullptr;
    }
  }
  auto source = std::make_unique<DpdkQueueSource>(shared_from_this(), queues, config_);
  status = source->compile_filter(config_.filter, config_.snaplen);
  if (!status) return nullptr;
  return source;
}

}  // namespace ipattrib::agent
