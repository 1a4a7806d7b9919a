// DiskSpool: the agent's durable FIFO of encoded BATCH frames awaiting the
// collector's acknowledgement. append() returns only once the batch is on disk
// (file and directory fsynced), so a batch that append() accepted survives a
// crash; pop_through() removes what the collector acknowledged. When the spool
// would exceed its size bound the OLDEST batches are dropped, counted with
// their accesses, and logged loudly.
//
// It is also the agent's durable SequenceCounter: the highest sequence it
// ever accepted is kept across restarts, even when the spool is empty, so
// sequences never repeat (a repeated one would be ignored by the collector as
// a retransmission). The shipper must only send batches append() accepted.
//
// Layout: one file per batch, "batch-<20-digit sequence>.spool" (format in
// spool_record.h), "sequence" holding the highest sequence once the files no
// longer show it, and "lock" (flock: one agent per spool). On open, torn or
// corrupt files are dropped and counted; unfinished temp files are removed.
//
// Not thread-safe: owned by the one thread that spools and ships.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/ship/durable_file.h"
#include "agent/ship/sequence_counter.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::agent {

struct SpoolOptions {
  std::string dir = "/var/lib/ipattrib/spool";
  std::uint64_t max_bytes = std::uint64_t{1024} << 20;
};

struct SpooledBatch {
  std::uint64_t sequence = 0;
  std::uint64_t access_count = 0;
  std::vector<std::uint8_t> frame;  // the whole BATCH frame, header included
};

class DiskSpool final : public SequenceCounter {
 public:
  static Status open(const SpoolOptions& options, std::unique_ptr<DiskSpool>& out);

  std::uint64_t next_sequence() override;
  // Highest sequence handed out or accepted (0: none yet).
  std::uint64_t highest_sequence() const { return highest_assigned_; }
  // The collector has committed up to `sequence` (HELLO_ACK): continue above
  // it, durably, e.g. after the spool directory was lost.
  Status raise_sequence_floor(std::uint64_t sequence);

  // sequence must be above every sequence appended before (in any run).
  Status append(std::uint64_t sequence, std::span<const std::uint8_t> frame, std::uint64_t access_count);
  // Numbers the batch when its sequence is 0, encodes it and appends it.
  Status append_batch(RecordBatch& batch, const wire::WireLimits& limits = wire::WireLimits());

  bool empty() const { return entries_.empty(); }
  std::size_t batch_count() const { return entries_.size(); }
  std::uint64_t bytes() const { return bytes_; }
  // Oldest and newest batch held (HELLO's lowest/highest_unacked_sequence).
  std::optional<std::uint64_t> front_sequence() const;
  std::optional<std::uint64_t> back_sequence() const;
  // Sequences held, ascending, above `after` (retransmission after a reconnect).
  std::vector<std::uint64_t> sequences_after(std::uint64_t after) const;
  // Reads and re-checks one batch from disk.
  Status read(std::uint64_t sequence, SpooledBatch& out) const;
  Status front(SpooledBatch& out) const;

  // Removes every batch with sequence <= acked_sequence.
  Status pop_through(std::uint64_t acked_sequence);
  // Drops the oldest batch as lost (the collector refused it as bad_batch, or
  // it no longer reads back): counted and logged with its access count.
  Status drop_front(std::string_view reason);

  void report(StatsSink& stats) const;

 private:
  struct Entry {
    std::uint64_t file_bytes = 0;
    std::uint64_t access_count = 0;
  };
  using EntryMap = std::map<std::uint64_t, Entry>;

  DiskSpool(SpoolOptions options, DurableDirectory dir);
  Status load();
  void load_batch_file(const std::string& name, std::uint64_t sequence);
  Status load_sequence_file();
  // Removes [entries_.begin(), end); persists the sequence first when the
  // newest batch goes, so sequences stay monotonic across restarts.
  Status remove_front(EntryMap::iterator end);
  Status persist_sequence(std::uint64_t sequence);
  void drop_oldest_for(std::uint64_t incoming_bytes);

  SpoolOptions options_;
  DurableDirectory dir_;
  EntryMap entries_;
  std::uint64_t bytes_ = 0;
  std::uint64_t highest_appended_ = 0;   // durable: in a file name or in "sequence"
  std::uint64_t highest_assigned_ = 0;   // >= highest_appended_
  std::uint64_t persisted_sequence_ = 0;  // what "sequence" holds

  struct Counters {
    std::uint64_t appended = 0;
    std::uint64_t acked = 0;
    std::uint64_t dropped_batches = 0;
    std::uint64_t dropped_accesses = 0;
    std::uint64_t torn_records = 0;
    std::uint64_t corrupt_records = 0;
    std::uint64_t write_errors = 0;
  } counters_;
};

}  // namespace ipattrib::agent
