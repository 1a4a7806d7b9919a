// Aggregator: turns a worker's AccessEvents into AttributionRecords, one per
// (account, principal, client IP, access class, IP source) and flush window,
// keeping every access time in milliseconds (count == times.size()), and
// hands them on as RecordBatches. One per worker thread; no locks.
//
// What a record holds beyond its key:
// - geo: as resolved at the first access of the window. Geo is not part of
//   the key because it is a property of the IP, not of the access; a database
//   reload within a window shows up in the next window's records.
// - gateway: this agent's gateway name (one per Aggregator).
// Principal and IP source are part of the key: two principals of an account,
// or the same IP once seen directly and once through a proxy header, are
// different facts for the ledger.
//
// Windows follow packet (event) time: [k*W, (k+1)*W). An event past the open
// window's end closes it first; flush_due(now) closes it when the clock
// (packet time or, when idle, wall time) has passed its end. A late event
// (before the open window) joins the open window; times are sorted at flush.
//
// Batches always fit the WireLimits: the open window is flushed early when it
// reaches max_records_per_window records, max_accesses_per_batch accesses, or
// one record reaches max_accesses_per_record.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "agent/attribution/access_event.h"
#include "agent/ship/record_batch_sink.h"
#include "agent/ship/sequence_counter.h"
#include "ipattrib/attribution_record.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::agent {

// Account of requests no rule attributed, when ship_unattributed is on. The
// wire forbids empty accounts, and "-" is not a valid account id of any
// provider the attribution rules know.
inline constexpr std::string_view kUnattributedAccount = "-";

struct AggregatorOptions {
  std::string agent_id;
  std::string gateway;
  std::uint32_t flush_window_ms = 1000;
  std::uint32_t max_records_per_window = 10000;
  bool ship_unattributed = false;
  wire::WireLimits limits;
};

class Aggregator final : public AccessEventSink {
 public:
  // sequences: when null, batches leave with sequence 0 and the single spool
  // writer numbers them (DiskSpool::append_batch). With several workers that
  // is required: sequences must reach the spool in ascending order.
  Aggregator(AggregatorOptions options, SequenceCounter* sequences, RecordBatchSink& sink);

  void on_access(const AccessEvent& event) override;
  // Flushes the open window if now_ms is at or past its end.
  void flush_due(std::int64_t now_ms);
  // Flushes whatever is open (shutdown, tests).
  void flush_all();

  std::size_t open_records() const { return records_.size(); }
  void report(StatsSink& stats) const;

 private:
  struct KeyView {
    std::string_view account;
    std::string_view principal;
    IpAddress client_ip;
    RecordClass access_class;
    RecordIpSource ip_source;
    friend bool operator==(const KeyView&, const KeyView&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const KeyView& key) const noexcept;
  };

  bool admit(const AccessEvent& event, std::string_view& account);
  void open_window_for(std::int64_t ts_ms);
  AttributionRecord& find_or_add(const KeyView& key, const GeoInfo& geo);
  void flush();
  void flush_early();

  AggregatorOptions options_;
  SequenceCounter* sequences_;
  RecordBatchSink& sink_;

  bool window_open_ = false;
  std::int64_t window_start_ms_ = 0;
  std::uint64_t window_accesses_ = 0;
  // A deque so records never move while the window is open: the map's keys
  // are views into the records' own strings.
  std::deque<AttributionRecord> records_;
  std::unordered_map<KeyView, AttributionRecord*, KeyHash> index_;

  struct Counters {
    std::uint64_t events = 0;
    std::uint64_t no_account = 0;
    std::uint64_t unattributed_shipped = 0;
    std::uint64_t no_client_ip = 0;
    std::uint64_t oversize_field = 0;
    std::uint64_t late_events = 0;
    std::uint64_t records = 0;
    std::uint64_t accesses = 0;
    std::uint64_t batches = 0;
    std::uint64_t early_flushes = 0;
  } counters_;
};

}  // namespace ipattrib::agent
