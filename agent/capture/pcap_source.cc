#include "agent/capture/pcap_source.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <spdlog/spdlog.h>

#include <poll.h>

#include <atomic>
#include <cstdint>

#include "agent/capture/pcap_link_type.h"

namespace ipattrib::agent {
namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

class PcapSource final : public PacketSource {
 public:
  // live_timeout_ms < 0: an offline file. Otherwise the handle is
  // non-blocking and reads wait at most that long, so the caller's timers and
  // signals (stats, reload, stop) are serviced even when no packet arrives —
  // libpcap's own timeout does not fire in immediate mode on Linux, and it
  // retries reads interrupted by signals.
  PcapSource(PcapHandle pcap, LinkType link_type, int live_timeout_ms)
      : pcap_(std::move(pcap)),
        link_type_(link_type),
        live_(live_timeout_ms >= 0),
        live_timeout_ms_(live_timeout_ms),
        selectable_fd_(live_ ? pcap_get_selectable_fd(pcap_.get()) : -1) {}

  LinkType link_type() const override { return link_type_; }

  std::size_t read_burst(std::span<RawFrame> out, ReadStatus& status) override {
    if (stopped_.load(std::memory_order_relaxed)) {
      status = ReadStatus::kEnd;
      return 0;
    }
    if (out.empty()) {
      status = ReadStatus::kFrames;
      return 0;
    }
    pcap_pkthdr* header = nullptr;
    const std::uint8_t* data = nullptr;
    int rc = pcap_next_ex(pcap_.get(), &header, &data);
    if (rc == 0 && selectable_fd_ >= 0) {
      pollfd waiter{selectable_fd_, POLLIN, 0};
      if (poll(&waiter, 1, live_timeout_ms_) > 0) rc = pcap_next_ex(pcap_.get(), &header, &data);
    }
    switch (rc) {
      case 1:
        out[0].ts_us = std::int64_t{header->ts.tv_sec} * 1000000 + header->ts.tv_usec;
        out[0].data = std::span<const std::uint8_t>(data, header->caplen);
        out[0].wire_length = header->len;
        ++frames_;
        bytes_ += header->len;
        status = ReadStatus::kFrames;
        return 1;
      case 0: status = ReadStatus::kTimeout; return 0;
      case PCAP_ERROR_BREAK:  // end of file, or pcap_breakloop()
        stopped_.store(true, std::memory_order_relaxed);
        status = ReadStatus::kEnd;
        return 0;
      default:
        error_ = pcap_geterr(pcap_.get());
        status = ReadStatus::kError;
        return 0;
    }
  }

  void break_loop() override {
    // Our flag makes the stop stick: libpcap clears its own once it has
    // returned PCAP_ERROR_BREAK, and a call between reads would be lost.
    stopped_.store(true, std::memory_order_relaxed);
    pcap_breakloop(pcap_.get());
  }

  void report(StatsSink& sink) const override {
    pcap_stat stats{};
    if (!live_ || pcap_stats(pcap_.get(), &stats) != 0) stats = pcap_stat{};
    sink.counter("capture.frames", frames_);
    sink.counter("capture.bytes", bytes_);
    sink.counter("capture.kernel_drops", stats.ps_drop);
    sink.counter("capture.interface_drops", stats.ps_ifdrop);
  }

  const std::string& error() const override { return error_; }

  bool replays_a_file() const override { return !live_; }

 private:
  PcapHandle pcap_;
  LinkType link_type_;
  bool live_;
  int live_timeout_ms_;
  int selectable_fd_;
  std::atomic<bool> stopped_{false};
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::string error_;
};

Status apply_filter(pcap_t* pcap, const std::string& filter) {
  if (filter.empty()) return Status::ok();
  bpf_program program{};
  if (pcap_compile(pcap, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return Status::error(fmt::format("bad capture filter '{}': {}", filter, pcap_geterr(pcap)));
  }
  const int rc = pcap_setfilter(pcap, &program);
  pcap_freecode(&program);
  if (rc != 0) return Status::error(fmt::format("cannot set capture filter '{}': {}", filter, pcap_geterr(pcap)));
  return Status::ok();
}

Status decodable_link_type(pcap_t* pcap, LinkType& link_type) {
  const int dlt = pcap_datalink(pcap);
  const std::optional<LinkType> mapped = link_type_from_dlt(dlt);
  if (!mapped) {
    const char* name = pcap_datalink_val_to_name(dlt);
    return Status::error(
        fmt::format("unsupported link type {} (DLT {}); supported: Ethernet, Linux cooked (SLL, SLL2), "
                    "BSD loopback (NULL, LOOP), raw IP",
                    name != nullptr ? name : "unknown", dlt));
  }
  link_type = *mapped;
  return Status::ok();
}

std::unique_ptr<PacketSource> finish_open(PcapHandle pcap, const std::string& filter, int live_timeout_ms,
                                          const std::string& what, Status& status) {
  LinkType link_type = LinkType::kEthernet;
  Status s = decodable_link_type(pcap.get(), link_type);
  if (s) s = apply_filter(pcap.get(), filter);
  if (!s) {
    status = Status::error(fmt::format("{}: {}", what, s.message()));
    return nullptr;
  }
  status = Status::ok();
  return std::make_unique<PcapSource>(std::move(pcap), link_type, live_timeout_ms);
}

// pcap_set_* only fail on an already activated handle; checked anyway so a
// libpcap change cannot make a setting silently not apply.
Status configure_live(pcap_t* pcap, const CaptureConfig& config) {
  if (pcap_set_snaplen(pcap, config.snaplen) != 0 || pcap_set_promisc(pcap, config.promiscuous ? 1 : 0) != 0 ||
      pcap_set_timeout(pcap, config.read_timeout_ms) != 0 ||
      pcap_set_buffer_size(pcap, config.buffer_size_bytes) != 0 ||
      pcap_set_immediate_mode(pcap, config.immediate ? 1 : 0) != 0 ||
      pcap_set_tstamp_precision(pcap, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
    return Status::error(fmt::format("cannot configure capture: {}", pcap_geterr(pcap)));
  }
  return Status::ok();
}

}  // namespace

std::unique_ptr<PacketSource> open_pcap_file(const std::string& path, const std::string& filter, Status& status) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle pcap(pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf));
  if (!pcap) {
    status = Status::error(fmt::format("cannot read capture file {}: {}", path, errbuf));
    return nullptr;
  }
  return finish_open(std::move(pcap), filter, /*live_timeout_ms=*/-1, "capture file " + path, status);
}

std::unique_ptr<PacketSource> open_pcap_live(const CaptureConfig& config, Status& status) {
  const std::string what = "capture on " + config.interface;
  if (config.interface.empty()) {
    status = Status::error("live capture needs an interface");
    return nullptr;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle pcap(pcap_create(config.interface.c_str(), errbuf));
  if (!pcap) {
    status = Status::error(fmt::format("{}: {}", what, errbuf));
    return nullptr;
  }
  if (Status s = configure_live(pcap.get(), config); !s) {
    status = Status::error(fmt::format("{}: {}", what, s.message()));
    return nullptr;
  }
  const int rc = pcap_activate(pcap.get());
  if (rc < 0) {
    // For these pcap_geterr() holds the detail; for the rest it may be stale.
    const bool has_detail = rc == PCAP_ERROR || rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED ||
                            rc == PCAP_ERROR_PROMISC_PERM_DENIED;
    status = has_detail ? Status::error(fmt::format("{}: {} ({})", what, pcap_statustostr(rc), pcap_geterr(pcap.get())))
                        : Status::error(fmt::format("{}: {}", what, pcap_statustostr(rc)));
    return nullptr;
  }
  if (rc > 0) {
    const bool has_detail = rc == PCAP_WARNING || rc == PCAP_WARNING_PROMISC_NOTSUP;
    if (has_detail) {
      spdlog::warn("{}: {} ({})", what, pcap_statustostr(rc), pcap_geterr(pcap.get()));
    } else {
      spdlog::warn("{}: {}", what, pcap_statustostr(rc));
    }
  }
  char nonblock_error[PCAP_ERRBUF_SIZE] = {};
  if (pcap_setnonblock(pcap.get(), 1, nonblock_error) != 0) {
    status = Status::error(fmt::format("{}: cannot make the capture non-blocking: {}", what, nonblock_error));
    return nullptr;
  }
  return finish_open(std::move(pcap), config.filter, config.read_timeout_ms, what, status);
}

}  // namespace ipattrib::agent
