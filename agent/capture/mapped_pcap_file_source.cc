#include "agent/capture/mapped_pcap_file_source.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pcap/pcap.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "agent/capture/mapped_pcap_parser.h"

namespace ipattrib::agent {
namespace {

// The mapping is walked in windows: entering a window asks the kernel to read
// it ahead, and the windows already read are unmapped from this process (the
// pages stay in the page cache), so peak RSS stays a few windows however
// large the file. Frames of the burst being processed are never in a
// released window: only what lies before the current offset at the start of
// a read_burst is released.
constexpr std::size_t kWindowBytes = 4 << 20;

struct Mapping {
  const std::uint8_t* base = nullptr;
  std::size_t size = 0;
};

// A compiled BPF filter run by libpcap's interpreter, exactly as
// pcap_next_ex applies it to an offline handle.
class OfflineFilter {
 public:
  OfflineFilter() = default;
  ~OfflineFilter() {
    if (compiled_) pcap_freecode(&program_);
  }
  OfflineFilter(const OfflineFilter&) = delete;
  OfflineFilter& operator=(const OfflineFilter&) = delete;

  // An empty expression compiles to "accept every frame" without libpcap.
  bool compile(const std::string& expression, const PcapFileFormat& format, std::string& error) {
    if (expression.empty()) return true;
    pcap_t* dead =
        pcap_open_dead_with_tstamp_precision(format.dlt, static_cast<int>(format.snapshot), PCAP_TSTAMP_PRECISION_MICRO);
    if (dead == nullptr) {
      error = "cannot make a pcap handle to compile the filter";
      return false;
    }
    compiled_ = pcap_compile(dead, &program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!compiled_) error = fmt::format("bad capture filter '{}': {}", expression, pcap_geterr(dead));
    pcap_close(dead);
    return compiled_;
  }

  bool accepts(const PcapRecord& record) const {
    if (!compiled_) return true;
    pcap_pkthdr header{};
    header.caplen = record.caplen;
    header.len = record.wire_length;
    return pcap_offline_filter(&program_, &header, record.data) != 0;
  }

 private:
  bpf_program program_{};
  bool compiled_ = false;
};

class MappedPcapFileSource final : public PacketSource {
 public:
  MappedPcapFileSource(std::string path, Mapping mapping, const PcapFileFormat& format,
                       std::unique_ptr<OfflineFilter> filter)
      : path_(std::move(path)),
        mapping_(mapping),
        file_(mapping.base, mapping.size),
        format_(format),
        filter_(std::move(filter)) {
    void* base = const_cast<std::uint8_t*>(mapping_.base);
    (void)madvise(base, mapping_.size, MADV_SEQUENTIAL);
    advise_window(0);
  }

  ~MappedPcapFileSource() override { munmap(const_cast<std::uint8_t*>(mapping_.base), mapping_.size); }

  MappedPcapFileSource(const MappedPcapFileSource&) = delete;
  MappedPcapFileSource& operator=(const MappedPcapFileSource&) = delete;

  LinkType link_type() const override { return format_.link_type; }

  std::size_t read_burst(std::span<RawFrame> out, ReadStatus& status) override {
    if (stopped_.load(std::memory_order_relaxed)) {
      status = ReadStatus::kEnd;
      return 0;
    }
    if (failed_) {
      status = ReadStatus::kError;
      return 0;
    }
    if (out.empty()) {
      status = ReadStatus::kFrames;
      return 0;
    }
    // The previous burst's frames are no longer the caller's.
    if (offset_ >= window_end_) advance_window();
    std::size_t n = 0;
    PcapRecord record;
    while (n < out.size()) {
      const PcapRecordStatus parsed = parse_pcap_record(format_, file_, offset_, record);
      if (parsed != PcapRecordStatus::kRecord) {
        if (parsed == PcapRecordStatus::kEnd) {
          stopped_.store(true, std::memory_order_relaxed);
        } else {
          fail(parsed, record);
        }
        break;
      }
      offset_ = record.next_offset;
      if (!filter_->accepts(record)) continue;
      RawFrame& frame = out[n++];
      frame.ts_us = record.ts_us;
      frame.data = std::span<const std::uint8_t>(record.data, record.caplen);
      frame.wire_length = record.wire_length;
      bytes_ += record.wire_length;
    }
    frames_ += n;
    // Frames first; the end or the error comes with the next call.
    if (n > 0) {
      status = ReadStatus::kFrames;
    } else {
      status = failed_ ? ReadStatus::kError : ReadStatus::kEnd;
    }
    return n;
  }

  void break_loop() override { stopped_.store(true, std::memory_order_relaxed); }

  void report(StatsSink& sink) const override {
    sink.counter("capture.frames", frames_);
    sink.counter("capture.bytes", bytes_);
    // A file has no kernel: the names are there so the stats line is the
    // same whichever reader read the file.
    sink.counter("capture.kernel_drops", 0);
    sink.counter("capture.interface_drops", 0);
  }

  const std::string& error() const override { return error_; }

  bool replays_a_file() const override { return true; }

 private:
  void fail(PcapRecordStatus parsed, const PcapRecord& record) {
    const std::size_t left = file_.size() - offset_;
    error_ = fmt::format("capture file {}: record at byte offset {} of {}: {} ({} bytes unread)", path_, offset_,
                         file_.size(), describe_pcap_record_error(parsed, format_, record, left), left);
    failed_ = true;
  }

  // Asks the kernel to read ahead the window starting at `start` and the
  // next one (page cache misses then wait less; cached pages cost nothing).
  void advise_window(std::size_t start) {
    window_end_ = start + kWindowBytes;
    const std::size_t aligned = start / page_size_ * page_size_;
    if (aligned >= mapping_.size) return;
    const std::size_t length = std::min(2 * kWindowBytes, mapping_.size - aligned);
    (void)madvise(const_cast<std::uint8_t*>(mapping_.base) + aligned, length, MADV_WILLNEED);
  }

  // Unmaps the pages before the current offset from this process and reads
  // ahead from there.
  void advance_window() {
    const std::size_t release_end = offset_ / page_size_ * page_size_;
    if (release_end > released_) {
      (void)madvise(const_cast<std::uint8_t*>(mapping_.base) + released_, release_end - released_, MADV_DONTNEED);
      released_ = release_end;
    }
    advise_window(offset_);
  }

  const std::string path_;
  const Mapping mapping_;
  const std::span<const std::uint8_t> file_;
  const PcapFileFormat format_;
  const std::unique_ptr<OfflineFilter> filter_;
  const std::size_t page_size_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::size_t offset_ = kPcapFileHeaderSize;
  std::size_t window_end_ = 0;
  std::size_t released_ = 0;
  std::atomic<bool> stopped_{false};
  bool failed_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::string error_;
};

// Maps the whole of a regular file read-only; the descriptor is not kept.
bool map_file(const std::string& path, Mapping& mapping, std::string& why_not) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why_not = fmt::format("cannot open it: {}", std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why_not = "not a regular file";
    close(fd);
    return false;
  }
  if (static_cast<std::size_t>(st.st_size) < kPcapFileHeaderSize) {
    why_not = fmt::format("shorter than a pcap file header ({} bytes)", st.st_size);
    close(fd);
    return false;
  }
  void* base = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  close(fd);
  if (base == MAP_FAILED) {
    why_not = fmt::format("cannot map it: {}", std::strerror(map_errno));
    return false;
  }
  mapping.base = static_cast<const std::uint8_t*>(base);
  mapping.size = static_cast<std::size_t>(st.st_size);
  return true;
}

}  // namespace

std::unique_ptr<PacketSource> open_mapped_pcap_file(const std::string& path, const std::string& filter,
                                                    std::string& why_not) {
  if (path == "-") {
    why_not = "standard input";
    return nullptr;
  }
  Mapping mapping;
  if (!map_file(path, mapping, why_not)) return nullptr;
  auto unmap = [&] { munmap(const_cast<std::uint8_t*>(mapping.base), mapping.size); };
  const std::optional<PcapFileFormat> format =
      parse_pcap_file_header(std::span<const std::uint8_t>(mapping.base, mapping.size), why_not);
  if (!format) {
    unmap();
    return nullptr;
  }
  auto compiled = std::make_unique<OfflineFilter>();
  if (!compiled->compile(filter, *format, why_not)) {
    unmap();
    return nullptr;
  }
  return std::make_unique<MappedPcapFileSource>(path, mapping, *format, std::move(compiled));
}

}  // namespace ipattrib::agent
