#include "agent/capture/pcap_file_reader.h"

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
#include <vector>

#include "agent/capture/pcap_file_format.h"
#include "agent/capture/read_ahead_file.h"

namespace ipattrib::agent {
namespace {

// Mapped files are walked in windows: entering a window asks the kernel to
// read it ahead, and the windows already read are unmapped from this process
// (the pages stay in the page cache), so peak RSS stays a few windows however
// large the file. Frames of the burst being processed are never in a
// released window: only what lies before the current offset at the start of
// a read_burst is released.
constexpr std::size_t kWindowBytes = 4 << 20;
// Read files are read this far ahead of the chunk being parsed, in at least
// four buffers: the one parsed, the one before it until its last record is
// copied, and two read ahead (the reading thread, woken when half the
// buffers are free, then reads two chunks per wake-up).
constexpr std::size_t kReadAheadBytes = 1 << 20;
// Each record header says where the next one is, so without help every
// record waits for its cache line: the lines up to this far ahead of the
// current record are prefetched.
constexpr std::size_t kPrefetchBytes = 4096;

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

// The bytes of the file the parser sees: the whole mapping, or the part of
// the file the read buffer holds (`base` is its offset in the file).
struct FileView {
  std::span<const std::uint8_t> bytes;
  std::uint64_t base = 0;
};

class PcapFileReader final : public PacketSource {
 public:
  // Reads through `mapping` when it is set, else from `fd` in chunks of
  // `chunk_bytes` on a read-ahead thread, from the first record on.
  PcapFileReader(std::string path, Mapping mapping, int fd, std::size_t chunk_bytes, std::uint64_t file_size,
                 const PcapFileFormat& format, std::unique_ptr<OfflineFilter> filter)
      : path_(std::move(path)),
        mapping_(mapping),
        fd_(fd),
        chunk_bytes_(chunk_bytes),
        file_size_(file_size),
        format_(format),
        filter_(std::move(filter)) {
    if (mapping_.base != nullptr) {
      view_.bytes = std::span<const std::uint8_t>(mapping_.base, mapping_.size);
      (void)madvise(const_cast<std::uint8_t*>(mapping_.base), mapping_.size, MADV_SEQUENTIAL);
      advise_window(0);
      offset_ = kPcapFileHeaderSize;
    } else {
      view_.base = kPcapFileHeaderSize;  // empty: the first read_burst refills
    }
  }

  ~PcapFileReader() override {
    read_ahead_.reset();  // its thread reads fd_
    if (mapping_.base != nullptr) munmap(const_cast<std::uint8_t*>(mapping_.base), mapping_.size);
    if (fd_ >= 0) close(fd_);
  }

  PcapFileReader(const PcapFileReader&) = delete;
  PcapFileReader& operator=(const PcapFileReader&) = delete;

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
    if (mapping_.base != nullptr && offset_ >= window_end_) advance_window();
    std::size_t n = 0;
    PcapRecord record;
    while (n < out.size()) {
      const PcapRecordStatus parsed = parse_pcap_record(format_, view_.bytes, offset_, record);
      if (parsed != PcapRecordStatus::kRecord) {
        // The read buffer ends before the file does: read on, once this
        // burst's frames (views into the buffer) are the caller's no more.
        if (parsed != PcapRecordStatus::kCaplenTooLarge && view_.base + view_.bytes.size() < file_size_) {
          if (n > 0) break;
          if (refill()) continue;
          break;
        }
        if (parsed == PcapRecordStatus::kEnd) {
          stopped_.store(true, std::memory_order_relaxed);
        } else {
          fail(parsed, record);
        }
        break;
      }
      offset_ = record.next_offset;
      prefetch_ahead();
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
    // Of the file, not of the read buffer (a truncation is only reported at
    // the file's end, where the two agree).
    const std::uint64_t left = file_size_ - (view_.base + offset_);
    error_ = fmt::format("capture file {}: record at byte offset {} of {}: {} ({} bytes unread)", path_,
                         view_.base + offset_, file_size_, describe_pcap_record_error(parsed, format_, record, left),
                         left);
    failed_ = true;
  }

  // Moves on to the next chunk the read-ahead thread has read, with the
  // unread bytes of this one (the start of a record the chunk end cut) put
  // right before it, in its front slack: a record longer than a chunk is
  // whole after enough refills. A file that ends early (shrunk since it was
  // opened) is taken to end there.
  bool refill() {
    if (!read_ahead_) start_read_ahead();
    const std::size_t rest = view_.bytes.size() - offset_;
    const ReadAheadFile::Chunk chunk = read_ahead_->next();
    if (chunk.error != 0) {
      error_ = fmt::format("capture file {}: cannot read at byte offset {}: {}", path_, chunk.offset + chunk.size,
                           std::strerror(chunk.error));
      failed_ = true;
      return false;
    }
    std::memcpy(chunk.data - rest, view_.bytes.data() + offset_, rest);
    read_ahead_->release_previous();  // the bytes just copied were its last use
    view_.base = chunk.offset - rest;
    view_.bytes = std::span<const std::uint8_t>(chunk.data - rest, rest + chunk.size);
    offset_ = 0;
    prefetched_ = 0;
    if (chunk.end) file_size_ = chunk.offset + chunk.size;
    return true;
  }

  // At the first refill, not at open: the agent opens its source before it
  // drops privileges, and capabilities and no_new_privs are per thread, so a
  // thread started then would keep what the packet thread gives up.
  void start_read_ahead() {
    // The slack holds the unread part of a chunk: less than one record, and
    // than the file.
    const auto slack =
        static_cast<std::size_t>(std::min<std::uint64_t>(kPcapRecordHeaderSize + kPcapMaximumSnaplen, file_size_));
    const std::size_t buffers = std::clamp<std::size_t>(kReadAheadBytes / chunk_bytes_, 4, 64);
    read_ahead_ = std::make_unique<ReadAheadFile>(fd_, kPcapFileHeaderSize, file_size_, chunk_bytes_, slack, buffers);
  }

  void prefetch_ahead() {
    const std::size_t until = std::min(offset_ + kPrefetchBytes, view_.bytes.size());
    for (; prefetched_ < until; prefetched_ += 64) __builtin_prefetch(view_.bytes.data() + prefetched_);
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
  const int fd_;
  const std::size_t chunk_bytes_;
  std::unique_ptr<ReadAheadFile> read_ahead_;  // not when mapped
  std::uint64_t file_size_;
  const PcapFileFormat format_;
  const std::unique_ptr<OfflineFilter> filter_;
  const std::size_t page_size_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  FileView view_;
  std::size_t offset_ = 0;  // in view_
  std::size_t window_end_ = 0;
  std::size_t released_ = 0;
  std::size_t prefetched_ = 0;
  std::atomic<bool> stopped_{false};
  bool failed_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::string error_;
};

// Opens a regular file of at least a file header; the descriptor is the
// caller's.
int open_regular_file(const std::string& path, std::uint64_t& size, std::string& why_not) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why_not = fmt::format("cannot open it: {}", std::strerror(errno));
    return -1;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why_not = "not a regular file";
    close(fd);
    return -1;
  }
  if (static_cast<std::size_t>(st.st_size) < kPcapFileHeaderSize) {
    why_not = fmt::format("shorter than a pcap file header ({} bytes)", st.st_size);
    close(fd);
    return -1;
  }
  size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

// Reads the file header (open_regular_file saw the file is long enough).
bool read_file_header(int fd, std::uint8_t (&header)[kPcapFileHeaderSize], std::string& why_not) {
  std::size_t have = 0;
  while (have < kPcapFileHeaderSize) {
    const ssize_t got = ::pread(fd, header + have, kPcapFileHeaderSize - have, static_cast<off_t>(have));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      why_not = got < 0 ? fmt::format("cannot read it: {}", std::strerror(errno)) : "shorter than a pcap file header";
      return false;
    }
    have += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

std::unique_ptr<PacketSource> open_pcap_file_reader(const std::string& path, const std::string& filter,
                                                    std::string& why_not, const PcapFileReadOptions& options) {
  if (path == "-") {
    why_not = "standard input";
    return nullptr;
  }
  std::uint64_t size = 0;
  int fd = open_regular_file(path, size, why_not);
  if (fd < 0) return nullptr;
  Mapping mapping;
  std::uint8_t header[kPcapFileHeaderSize];
  const std::size_t chunk = std::max<std::size_t>(options.read_chunk_bytes, kPcapFileHeaderSize);
  if (options.map) {
    void* base = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    close(fd);
    fd = -1;
    if (base == MAP_FAILED) {
      why_not = fmt::format("cannot map it: {}", std::strerror(map_errno));
      return nullptr;
    }
    mapping.base = static_cast<const std::uint8_t*>(base);
    mapping.size = size;
  } else {
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (!read_file_header(fd, header, why_not)) {
      close(fd);
      return nullptr;
    }
  }
  auto give_up = [&] {
    if (mapping.base != nullptr) munmap(const_cast<std::uint8_t*>(mapping.base), mapping.size);
    if (fd >= 0) close(fd);
    return nullptr;
  };
  const std::span<const std::uint8_t> first =
      mapping.base != nullptr ? std::span<const std::uint8_t>(mapping.base, mapping.size)
                              : std::span<const std::uint8_t>(header, kPcapFileHeaderSize);
  const std::optional<PcapFileFormat> format = parse_pcap_file_header(first, why_not);
  if (!format) return give_up();
  auto compiled = std::make_unique<OfflineFilter>();
  if (!compiled->compile(filter, *format, why_not)) return give_up();
  return std::make_unique<PcapFileReader>(path, mapping, fd, chunk, size, *format, std::move(compiled));
}

}  // namespace ipattrib::agent
