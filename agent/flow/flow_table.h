// FlowTable: tracks TCP connections and reassembles the client->server byte
// stream of each, in order, for a ClientStreamConsumer (the HTTP request
// parser). Server->client payload is only looked at for FIN/RST.
//
// Memory is bounded up front: entries come from one block reserved for
// max_flows entries (on huge pages where available), used from the start and
// reused, reassembly bytes from a ChunkPool bounded by
// max_total_buffer_bytes. When a bound is hit the table evicts (the flow idle
// longest, to within idle_timeout/16, or the buffers of the flow that has held buffers longest), skips
// ahead and tells the consumer about the gap; it never grows further and never
// throws. Lookup is a seeded symmetric hash over the 4-tuple, O(1) expected.
// Not thread-safe: one table per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "agent/decode/packet_view.h"
#include "agent/flow/chunk_pool.h"
#include "agent/flow/client_stream_consumer.h"
#include "agent/flow/flow_config.h"
#include "agent/flow/flow_entry.h"
#include "ipattrib/huge_page_region.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct FlowCounters {
  std::uint64_t segments = 0;
  std::uint64_t created = 0;
  std::uint64_t closed_fin = 0;
  std::uint64_t closed_rst = 0;
  std::uint64_t closed_reused = 0;  // a new SYN on a tracked 4-tuple
  std::uint64_t closed_flush = 0;
  std::uint64_t expired_idle = 0;
  std::uint64_t evicted_table_full = 0;
  std::uint64_t evicted_for_memory = 0;
  std::uint64_t client_bytes = 0;  // handed to the consumer
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t out_of_order_segments = 0;
  std::uint64_t ooo_overflow = 0;
  std::uint64_t buffer_overflow = 0;
  std::uint64_t buffer_pool_exhausted = 0;
  std::uint64_t dropped_buffered_bytes = 0;  // unconsumed or out-of-order bytes thrown away
  std::uint64_t gaps = 0;
  std::uint64_t undecided_segments = 0;
  std::uint64_t not_wanted = 0;
  std::uint64_t untracked_segments = 0;  // no flow and nothing to open one
  std::uint64_t server_bytes_skipped = 0;
};

class FlowTable {
 public:
  FlowTable(const FlowConfig& config, ClientStreamConsumer& consumer);
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  void on_segment(const PacketView& segment) { on_segment(segment, bucket_of(segment)); }
  // The same, with `bucket` = bucket_of(segment) already taken (a burst
  // caller has it from prefetching: the hash is then computed once).
  void on_segment(const PacketView& segment, std::size_t bucket);

  // Burst prefetch (PacketPipeline::process_burst): at a million flows each
  // segment costs two dependent cache misses here, its bucket and then its
  // entry. A caller holding a burst of decoded segments takes bucket_of()
  // for one a few positions ahead and prefetch_bucket()s it, then, a few
  // positions later, prefetch_entry() (reads the bucket, by then in cache,
  // and starts loading the entry it points to), so on_segment() finds both
  // in cache, and passes the same bucket_of() value to on_segment(). The
  // prefetches are hints only: nothing changes, any value is safe (a bucket
  // emptied or changed meanwhile only makes the hint useless). A bucket is
  // the flow's hash and stays right while the table lives.
  std::size_t bucket_of(const PacketView& segment) const {
    return hash_of(segment.src, segment.src_port, segment.dst, segment.dst_port);
  }
  void prefetch_bucket(std::size_t bucket) const { __builtin_prefetch(&buckets_[bucket & bucket_mask_]); }
  void prefetch_entry(std::size_t bucket) const {
    const std::uint32_t index = bucket_head(bucket);
    if (index == kNoFlow) return;
    // The first 64 bytes of the entry are what a lookup reads; the entry
    // (160 bytes) may straddle a line boundary there.
    const char* first = reinterpret_cast<const char*>(&entries_[index]);
    __builtin_prefetch(first, 1);
    __builtin_prefetch(first + 63, 1);
  }
  // Drops flows idle since before now_us - idle_timeout (packet time); a flow
  // may outlive that by up to idle_timeout/16 (the recency list's tick, see
  // touch()), never less. Walks only the idle end of the recency list, so
  // calling it often is cheap.
  void expire(std::int64_t now_us);
  // End of input: hands over everything deliverable (skipping holes), then
  // closes every flow.
  void flush_all();

  std::size_t active_flows() const { return active_; }
  // Entries and buckets in use (whole pages of the size they live on), chunk
  // slabs and scratch obtained so far.
  std::size_t memory_bytes() const;
  // Chunk memory currently holding unconsumed or out-of-order bytes.
  std::size_t buffer_bytes_in_use() const { return chunks_.chunks_in_use() * sizeof(Chunk); }
  const FlowCounters& counters() const { return counters_; }
  void report(StatsSink& sink) const;

 private:
  enum class CloseMode { kDeliver, kDrop };

  // Lookup and lifecycle (flow_table.cc).
  FlowEntry& entry(std::uint32_t index) { return entries_[index]; }
  std::size_t hash_of(const IpAddress& a, std::uint16_t a_port, const IpAddress& b, std::uint16_t b_port) const;
  std::uint32_t find(const PacketView& segment, std::size_t bucket, bool& from_client);
  std::uint32_t create(const FlowEndpoints& endpoints, std::uint32_t next_seq, std::int64_t ts_us);
  std::uint32_t take_free_entry();
  void close(std::uint32_t index, CloseMode mode);
  void on_syn(const PacketView& segment, std::size_t bucket);
  void on_untracked(const PacketView& segment);
  void on_tracked(std::uint32_t index, bool from_client, const PacketView& segment);
  void touch(std::uint32_t index, std::int64_t ts_us);
  void list_as_newest(std::uint32_t index, std::int64_t ts_us);
  void unlink_recent(std::uint32_t index);
  void update_buffered_list(std::uint32_t index);
  void unlink_buffered(std::uint32_t index);

  // Reassembly (flow_reassembly.cc).
  void on_client_data(std::uint32_t index, std::uint32_t seq, std::span<const std::uint8_t> data, std::int64_t ts_us);
  void deliver(std::uint32_t index, std::span<const std::uint8_t> data, std::int64_t ts_us);
  void keep_unconsumed(std::uint32_t index, std::span<const std::uint8_t> rest);
  bool buffer_out_of_order(std::uint32_t index, std::uint32_t seq, std::span<const std::uint8_t> data);
  void drain_out_of_order(std::uint32_t index, std::int64_t ts_us);
  void skip_to(std::uint32_t index, std::uint32_t seq);
  void deliver_past_holes(std::uint32_t index, std::int64_t ts_us);
  void drop_buffers(std::uint32_t index);
  void report_gap(std::uint32_t index);
  std::uint32_t allocate_chunk();
  bool evict_oldest_buffers();

  // Entries are readied (and their pages touched) this many at a time.
  static constexpr std::size_t kEntryBatch = 4096;

  FlowConfig config_;
  ClientStreamConsumer& consumer_;
  std::uint64_t hash_key_[4];  // random per table: crafted collisions need it
  std::uint64_t recency_tick_us_;  // see touch()
  std::size_t out_of_order_chunk_limit_;

  // Address space for max_flows entries and the buckets, reserved once; pages
  // are committed as entries are first used.
  HugePageRegion entry_region_;
  HugePageRegion bucket_region_;
  FlowEntry* entries_ = nullptr;
  // Heads of hash chains, stored inverted (~index): the zero-filled region
  // is then all empty buckets (~0 is kNoFlow) without being written at
  // start, so its pages too are committed only as buckets are first used.
  std::uint32_t* buckets_ = nullptr;
  std::uint32_t bucket_head(std::size_t bucket) const { return ~buckets_[bucket & bucket_mask_]; }
  void set_bucket_head(std::size_t bucket, std::uint32_t index) { buckets_[bucket & bucket_mask_] = ~index; }
  std::size_t bucket_mask_ = 0;       // bucket count (a power of two) - 1
  std::size_t entries_created_ = 0;
  std::uint32_t free_head_ = kNoFlow;
  std::size_t active_ = 0;
  std::uint32_t newest_ = kNoFlow;  // recency list
  std::uint32_t oldest_ = kNoFlow;
  std::uint32_t buffered_first_ = kNoFlow;  // flows holding chunks, longest first
  std::uint32_t buffered_last_ = kNoFlow;
  std::uint32_t current_ = kNoFlow;  // flow being worked on: never robbed of its own chunks

  ChunkPool chunks_;
  std::vector<std::uint8_t> scratch_;  // unconsumed bytes + new bytes, made contiguous
  FlowCounters counters_;
};

}  // namespace ipattrib::agent
