#include "agent/ship/disk_spool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iterator>
#include <limits>
#include <utility>

#include "agent/ship/spool_record.h"
#include "ipattrib/wire/batch_codec.h"

namespace ipattrib::agent {
namespace {

constexpr std::string_view kBatchPrefix = "batch-";
constexpr std::string_view kBatchSuffix = ".spool";
constexpr std::size_t kSequenceDigits = 20;
const std::string kSequenceFile = "sequence";
const std::string kLockFile = "lock";
constexpr std::uint64_t kMaxFileBytes = kSpoolHeaderBytes + std::numeric_limits<std::uint32_t>::max();

std::string batch_file_name(std::uint64_t sequence) {
  return fmt::format("{}{:0{}}{}", kBatchPrefix, sequence, kSequenceDigits, kBatchSuffix);
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_batch_file_name(std::string_view name) {
  if (name.size() != kBatchPrefix.size() + kSequenceDigits + kBatchSuffix.size() || !name.starts_with(kBatchPrefix) ||
      !name.ends_with(kBatchSuffix)) {
    return std::nullopt;
  }
  return parse_decimal(name.substr(kBatchPrefix.size(), kSequenceDigits));
}

std::uint64_t count_accesses(const RecordBatch& batch) {
  std::uint64_t n = 0;
  for (const AttributionRecord& record : batch.records) n += record.access_times_ms.size();
  return n;
}

}  // namespace

Status DiskSpool::open(const SpoolOptions& options, std::unique_ptr<DiskSpool>& out) {
  DurableDirectory dir;
  if (Status s = DurableDirectory::open(options.dir, dir); !s) return s;
  if (Status s = dir.lock(kLockFile); !s) return s;
  std::unique_ptr<DiskSpool> spool(new DiskSpool(options, std::move(dir)));
  if (Status s = spool->load(); !s) return s;
  out = std::move(spool);
  return Status::ok();
}

DiskSpool::DiskSpool(SpoolOptions options, DurableDirectory dir) : options_(std::move(options)), dir_(std::move(dir)) {}

Status DiskSpool::load() {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) return Status::error(fmt::format("cannot list spool {}: {}", options_.dir, ec.message()));

  bool removed = false;
  std::uint64_t highest_named = 0;  // also of dropped files: their sequence may have reached the collector
  for (const std::string& name : names) {
    if (name == kLockFile || name == kSequenceFile) continue;
    if (name.starts_with("tmp-")) {
      // An append() that never returned: its caller did not count on it.
      spdlog::warn("spool {}: removing unfinished write {}", options_.dir, name);
      ++counters_.torn_records;
      (void)dir_.remove_file(name);
      removed = true;
    } else if (auto sequence = parse_batch_file_name(name)) {
      highest_named = std::max(highest_named, *sequence);
      const std::size_t before = entries_.size();
      load_batch_file(name, *sequence);
      removed = removed || entries_.size() == before;
    } else {
      spdlog::warn("spool {}: ignoring unexpected file {}", options_.dir, name);
    }
  }
  if (Status s = load_sequence_file(); !s) return s;
  const std::uint64_t highest_held = entries_.empty() ? 0 : entries_.rbegin()->first;
  if (highest_named > std::max(highest_held, persisted_sequence_)) {
    if (Status s = persist_sequence(highest_named); !s) return s;
  }
  highest_appended_ = std::max({persisted_sequence_, highest_held, highest_named});
  highest_assigned_ = highest_appended_;
  if (removed) (void)dir_.sync();
  if (!entries_.empty()) {
    spdlog::info("spool {}: {} unacknowledged batches ({} bytes), sequences {}..{}", options_.dir, entries_.size(),
                 bytes_, entries_.begin()->first, entries_.rbegin()->first);
  }
  return Status::ok();
}

void DiskSpool::load_batch_file(const std::string& name, std::uint64_t sequence) {
  std::vector<std::uint8_t> bytes;
  SpoolRecordHeader header;
  SpoolRecordCheck check = SpoolRecordCheck::kCorrupt;
  if (Status s = dir_.read_file(name, kMaxFileBytes, bytes); !s) {
    spdlog::error("spool {}: {}", options_.dir, s.message());
  } else {
    check = check_spool_record(bytes, header);
    if (check == SpoolRecordCheck::kOk && header.sequence != sequence) check = SpoolRecordCheck::kCorrupt;
  }
  if (check == SpoolRecordCheck::kOk) {
    entries_[sequence] = Entry{bytes.size(), header.access_count};
    bytes_ += bytes.size();
    return;
  }
  const bool torn = check == SpoolRecordCheck::kTorn;
  ++(torn ? counters_.torn_records : counters_.corrupt_records);
  const std::string lost = bytes.size() >= kSpoolHeaderBytes ? fmt::format("its header claims {}", header.access_count)
                                                              : std::string("an unknown number of");
  spdlog::error("spool {}: dropping {} batch {} ({} bytes); {} accesses are LOST", options_.dir,
                torn ? "torn" : "corrupt", name, bytes.size(), lost);
  (void)dir_.remove_file(name);
}

Status DiskSpool::load_sequence_file() {
  std::vector<std::uint8_t> bytes;
  if (!std::filesystem::exists(options_.dir + "/" + kSequenceFile)) return Status::ok();
  if (Status s = dir_.read_file(kSequenceFile, 64, bytes); !s) return s;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto value = parse_decimal(text);
  if (!value) {
    // Written atomically, so this is damage from outside; the collector's
    // HELLO_ACK raises the floor again (raise_sequence_floor).
    spdlog::error("spool {}: '{}' is unreadable; sequences continue from the spooled batches", options_.dir,
                  kSequenceFile);
    ++counters_.corrupt_records;
    return Status::ok();
  }
  persisted_sequence_ = *value;
  return Status::ok();
}

std::uint64_t DiskSpool::next_sequence() { return ++highest_assigned_; }

Status DiskSpool::raise_sequence_floor(std::uint64_t sequence) {
  if (sequence <= highest_appended_) {
    highest_assigned_ = std::max(highest_assigned_, sequence);
    return Status::ok();
  }
  if (Status s = persist_sequence(sequence); !s) return s;
  highest_appended_ = sequence;
  highest_assigned_ = std::max(highest_assigned_, sequence);
  return Status::ok();
}

Status DiskSpool::persist_sequence(std::uint64_t sequence) {
  const std::string text = fmt::format("{}\n", sequence);
  const std::span<const std::uint8_t> part(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  if (Status s = dir_.write_file(kSequenceFile, std::span(&part, 1)); !s) {
    ++counters_.write_errors;
    return s;
  }
  persisted_sequence_ = sequence;
  return Status::ok();
}

Status DiskSpool::append(std::uint64_t sequence, std::span<const std::uint8_t> frame, std::uint64_t access_count) {
  if (sequence == 0 || sequence <= highest_appended_) {
    return Status::error(fmt::format("spool: batch sequence {} is not above {}", sequence, highest_appended_));
  }
  if (frame.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status::error(fmt::format("spool: batch {} frame of {} bytes is too large", sequence, frame.size()));
  }
  const SpoolRecordHeader header{sequence, access_count, static_cast<std::uint32_t>(frame.size())};
  const auto head = encode_spool_header(header, frame);
  const std::uint64_t file_bytes = head.size() + frame.size();
  drop_oldest_for(file_bytes);

  const std::span<const std::uint8_t> parts[] = {head, frame};
  if (Status s = dir_.write_file(batch_file_name(sequence), parts); !s) {
    ++counters_.write_errors;
    return s;
  }
  entries_[sequence] = Entry{file_bytes, access_count};
  bytes_ += file_bytes;
  highest_appended_ = sequence;
  highest_assigned_ = std::max(highest_assigned_, sequence);
  ++counters_.appended;
  return Status::ok();
}

Status DiskSpool::append_batch(RecordBatch& batch, const wire::WireLimits& limits) {
  if (batch.sequence == 0) batch.sequence = next_sequence();
  std::vector<std::uint8_t> frame;
  if (Status s = wire::encode_batch(batch, frame, limits); !s) {
    return Status::error(fmt::format("spool: batch {} does not encode: {}", batch.sequence, s.message()));
  }
  return append(batch.sequence, frame, count_accesses(batch));
}

void DiskSpool::drop_oldest_for(std::uint64_t incoming_bytes) {
  auto end = entries_.begin();
  std::uint64_t remaining = bytes_;
  std::uint64_t batches = 0;
  std::uint64_t accesses = 0;
  while (end != entries_.end() && remaining + incoming_bytes > options_.max_bytes) {
    remaining -= end->second.file_bytes;
    accesses += end->second.access_count;
    ++batches;
    ++end;
  }
  if (batches == 0) return;
  const std::uint64_t first = entries_.begin()->first;
  const std::uint64_t last = std::prev(end)->first;
  counters_.dropped_batches += batches;
  counters_.dropped_accesses += accesses;
  spdlog::error("SPOOL FULL ({} of {} bytes): dropped the {} oldest unacknowledged batches (sequences {}..{}); {} "
                "accesses are LOST and will never reach the collector",
                bytes_, options_.max_bytes, batches, first, last, accesses);
  if (Status s = remove_front(end); !s) spdlog::error("spool {}: {}", options_.dir, s.message());
}

Status DiskSpool::remove_front(EntryMap::iterator end) {
  if (end == entries_.end() && !entries_.empty() && highest_appended_ > persisted_sequence_) {
    if (Status s = persist_sequence(highest_appended_); !s) return s;
  }
  Status result;
  for (auto it = entries_.begin(); it != end;) {
    if (Status s = dir_.remove_file(batch_file_name(it->first)); !s && result) result = s;
    bytes_ -= it->second.file_bytes;
    it = entries_.erase(it);
  }
  // A removal lost in a crash only brings back an acknowledged batch, which
  // the collector acknowledges again and ignores; one directory sync suffices.
  if (Status s = dir_.sync(); !s && result) result = s;
  return result;
}

std::optional<std::uint64_t> DiskSpool::front_sequence() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.begin()->first;
}

std::optional<std::uint64_t> DiskSpool::back_sequence() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.rbegin()->first;
}

std::vector<std::uint64_t> DiskSpool::sequences_after(std::uint64_t after) const {
  std::vector<std::uint64_t> out;
  for (auto it = entries_.upper_bound(after); it != entries_.end(); ++it) out.push_back(it->first);
  return out;
}

Status DiskSpool::read(std::uint64_t sequence, SpooledBatch& out) const {
  auto it = entries_.find(sequence);
  if (it == entries_.end()) return Status::error(fmt::format("spool: no batch {}", sequence));
  std::vector<std::uint8_t> bytes;
  if (Status s = dir_.read_file(batch_file_name(sequence), kMaxFileBytes, bytes); !s) return s;
  SpoolRecordHeader header;
  if (check_spool_record(bytes, header) != SpoolRecordCheck::kOk || header.sequence != sequence) {
    return Status::error(fmt::format("spool: batch {} no longer reads back intact", sequence));
  }
  bytes.erase(bytes.begin(), bytes.begin() + kSpoolHeaderBytes);
  out.sequence = sequence;
  out.access_count = header.access_count;
  out.frame = std::move(bytes);
  return Status::ok();
}

Status DiskSpool::front(SpooledBatch& out) const {
  if (entries_.empty()) return Status::error("spool: empty");
  return read(entries_.begin()->first, out);
}

Status DiskSpool::pop_through(std::uint64_t acked_sequence) {
  auto end = entries_.upper_bound(acked_sequence);
  counters_.acked += static_cast<std::uint64_t>(std::distance(entries_.begin(), end));
  return remove_front(end);
}

Status DiskSpool::drop_front(std::string_view reason) {
  if (entries_.empty()) return Status::ok();
  const auto& [sequence, entry] = *entries_.begin();
  ++counters_.dropped_batches;
  counters_.dropped_accesses += entry.access_count;
  spdlog::error("spool {}: dropping batch {} ({}); its {} accesses are LOST", options_.dir, sequence, reason,
                entry.access_count);
  return remove_front(std::next(entries_.begin()));
}

void DiskSpool::report(StatsSink& stats) const {
  stats.counter("spool.batches", entries_.size());
  stats.counter("spool.bytes", bytes_);
  stats.counter("spool.appended", counters_.appended);
  stats.counter("spool.acked", counters_.acked);
  stats.counter("spool.dropped_batches", counters_.dropped_batches);
  stats.counter("spool.dropped_accesses", counters_.dropped_accesses);
  stats.counter("spool.torn_records", counters_.torn_records);
  stats.counter("spool.corrupt_records", counters_.corrupt_records);
  stats.counter("spool.write_errors", counters_.write_errors);
}

}  // namespace ipattrib::agent
