#include "agent/flow/flow_table.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <new>
#include <random>

#include "ipattrib/hash_mix.h"

namespace ipattrib::agent {
namespace {

// Largest payload one delivery copies behind unconsumed bytes; bigger runs are
// handed over in slices of this size.
constexpr std::size_t kDeliverySlice = 65536;

// A SYN whose sequence number lies this little behind the flow's next byte is
// a late copy of the one that opened it, not a new connection on the 4-tuple.
constexpr std::uint32_t kDuplicateSynWindow = 1u << 20;

// The recency list's resolution is the idle timeout divided by this (7.5 s
// for the default 120 s): see touch().
constexpr std::int64_t kRecencyTicksPerIdleTimeout = 16;

// The 128-bit product of a and b folded to 64 bits (wyhash's "mum"): one
// multiply, and every bit of either factor reaches the result.
__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet

std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// One endpoint under the table's keys: the address's two words meet in one
// keyed multiply and the port in another, never XORed into address bits an
// attacker picks (that would collide for every key).
std::uint64_t hash_endpoint(const IpAddress& ip, std::uint16_t port, const std::uint64_t (&key)[4]) {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::memcpy(&lo, ip.bytes().data(), 8);
  std::memcpy(&hi, ip.bytes().data() + 8, 8);
  return fold_multiply(lo ^ key[0], hi ^ key[1]) + fold_multiply(port ^ key[2], key[3]);
}

std::uint64_t random_seed() {
  std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device device;
    seed ^= (static_cast<std::uint64_t>(device()) << 32) | device();
  } catch (...) {
    // No entropy source: the clock alone still defeats precomputed collisions.
  }
  return seed;
}

// Two 8-byte compares instead of IpAddress's defaulted operator==, which
// calls memcmp: this runs for every packet and every chain step (perf).
bool same_ip(const IpAddress& a, const IpAddress& b) {
  std::uint64_t a_words[2];
  std::uint64_t b_words[2];
  std::memcpy(a_words, a.bytes().data(), 16);
  std::memcpy(b_words, b.bytes().data(), 16);
  return ((a_words[0] ^ b_words[0]) | (a_words[1] ^ b_words[1])) == 0 && a.is_v4() == b.is_v4() &&
         a.is_v6() == b.is_v6();
}

bool same_endpoint(const IpAddress& ip, std::uint16_t port, const IpAddress& other_ip, std::uint16_t other_port) {
  return port == other_port && same_ip(ip, other_ip);
}

}  // namespace

FlowTable::FlowTable(const FlowConfig& config, ClientStreamConsumer& consumer)
    : config_(config),
      consumer_(consumer),
      chunks_(config.max_total_buffer_bytes) {
  std::uint64_t seed = random_seed();
  for (std::uint64_t& word : hash_key_) {
    seed += 0x9e3779b97f4a7c15ULL;  // splitmix64: independent-looking words from one seed
    word = mix64(seed) | 1;         // odd: the port multiply by key[3] keeps ports apart
  }
  recency_tick_us_ = static_cast<std::uint64_t>(std::max(1, config_.idle_timeout_s)) * 1000000 /
                    kRecencyTicksPerIdleTimeout;
  config_.max_flows = std::clamp<std::size_t>(config_.max_flows, 1, kNoFlow - 1);
  const std::size_t pieces = (config_.max_out_of_order_bytes + Chunk::kDataBytes - 1) / Chunk::kDataBytes;
  out_of_order_chunk_limit_ = std::min<std::size_t>(2 * pieces + 2, 255);
  // Two buckets per flow (load factor 1/4 to 1/2): a lookup at a million
  // flows then follows a chain past another entry (a cache miss) half as
  // often, for 4 more bytes per flow (bench/RESULTS.md).
  const std::size_t bucket_count = std::bit_ceil(std::max<std::size_t>(2 * config_.max_flows, 16));
  bucket_region_ = HugePageRegion(bucket_count * sizeof(std::uint32_t));
  buckets_ = static_cast<std::uint32_t*>(bucket_region_.data());  // zero-filled: every bucket empty
  bucket_mask_ = bucket_count - 1;
  entry_region_ = HugePageRegion(config_.max_flows * sizeof(FlowEntry));
  entries_ = static_cast<FlowEntry*>(entry_region_.data());
  scratch_.resize(config_.max_buffered_bytes_per_flow + kDeliverySlice);
}

std::size_t FlowTable::memory_bytes() const {
  return sizeof(*this) + entry_region_.committed_bytes(entries_created_ * sizeof(FlowEntry)) +
         bucket_region_.committed_bytes((bucket_mask_ + 1) * sizeof(std::uint32_t)) + chunks_.reserved_bytes() +
         scratch_.capacity();
}

std::size_t FlowTable::hash_of(const IpAddress& a, std::uint16_t a_port, const IpAddress& b,
                               std::uint16_t b_port) const {
  // Sum is symmetric: both directions land in the same bucket. Four
  // independent multiplies and one finalizer (was five finalizers in a chain).
  return mix64(hash_endpoint(a, a_port, hash_key_) + hash_endpoint(b, b_port, hash_key_)) & bucket_mask_;
}

std::uint32_t FlowTable::find(const PacketView& segment, std::size_t bucket, bool& from_client) {
  std::uint32_t index = bucket_head(bucket);
  while (index != kNoFlow) {
    const FlowEndpoints& ep = entry(index).endpoints;
    if (same_endpoint(segment.src, segment.src_port, ep.client_ip, ep.client_port) &&
        same_endpoint(segment.dst, segment.dst_port, ep.server_ip, ep.server_port)) {
      from_client = true;
      return index;
    }
    if (same_endpoint(segment.src, segment.src_port, ep.server_ip, ep.server_port) &&
        same_endpoint(segment.dst, segment.dst_port, ep.client_ip, ep.client_port)) {
      from_client = false;
      return index;
    }
    index = entry(index).bucket_next;
  }
  return kNoFlow;
}

std::uint32_t FlowTable::take_free_entry() {
  if (free_head_ == kNoFlow && entries_created_ < config_.max_flows) {
    const std::size_t count = std::min(kEntryBatch, config_.max_flows - entries_created_);
    for (std::size_t i = entries_created_ + count; i-- > entries_created_;) {
      FlowEntry* flow = new (&entries_[i]) FlowEntry{};
      flow->bucket_next = free_head_;
      free_head_ = static_cast<std::uint32_t>(i);
    }
    entries_created_ += count;
  }
  if (free_head_ == kNoFlow) {
    ++counters_.evicted_table_full;
    close(oldest_, CloseMode::kDeliver);
  }
  const std::uint32_t index = free_head_;
  free_head_ = entry(index).bucket_next;
  return index;
}

std::uint32_t FlowTable::create(const FlowEndpoints& endpoints, std::uint32_t next_seq, std::int64_t ts_us) {
  const std::uint32_t index = take_free_entry();
  FlowEntry& flow = entry(index);
  flow = FlowEntry{};
  flow.endpoints = endpoints;
  flow.next_seq = next_seq;
  const std::size_t bucket =
      hash_of(endpoints.client_ip, endpoints.client_port, endpoints.server_ip, endpoints.server_port);
  flow.bucket_next = bucket_head(bucket);
  set_bucket_head(bucket, index);
  ++active_;
  ++counters_.created;
  flow.last_seen_us = ts_us;
  list_as_newest(index, ts_us);
  return index;
}

void FlowTable::close(std::uint32_t index, CloseMode mode) {
  FlowEntry& flow = entry(index);
  if (mode == CloseMode::kDeliver) {
    const std::uint32_t saved = current_;
    current_ = index;
    deliver_past_holes(index, flow.last_seen_us);
    current_ = saved;
  }
  drop_buffers(index);
  unlink_buffered(index);
  unlink_recent(index);
  const FlowEndpoints& ep = flow.endpoints;
  const std::size_t bucket = hash_of(ep.client_ip, ep.client_port, ep.server_ip, ep.server_port);
  if (bucket_head(bucket) == index) {
    set_bucket_head(bucket, flow.bucket_next);
  } else {
    std::uint32_t* link = &entry(bucket_head(bucket)).bucket_next;
    while (*link != index) link = &entry(*link).bucket_next;
    *link = flow.bucket_next;
  }
  flow.bucket_next = free_head_;
  free_head_ = index;
  --active_;
}

// The recency list is kept approximately: a flow moves to the newest end
// only when it was put there at least recency_tick_us_ ago (or time went
// backwards). A flow busier than that costs one write to its own entry per
// packet instead of rewriting its two list neighbours, which at a million
// flows are two cache misses. The list stays sorted by listed_us, and
// listed_us <= last_seen_us < listed_us + tick, so the idle end is still
// where the idle flows are: expire() drops a flow at most one tick after its
// idle timeout, and eviction takes a flow idle longest to within one tick.
void FlowTable::touch(std::uint32_t index, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  flow.last_seen_us = ts_us;
  // Unsigned: time going backwards (a huge difference) also moves the flow.
  if (static_cast<std::uint64_t>(ts_us) - static_cast<std::uint64_t>(flow.listed_us) < recency_tick_us_) return;
  if (newest_ == index) {
    flow.listed_us = ts_us;
    return;
  }
  unlink_recent(index);
  list_as_newest(index, ts_us);
}

void FlowTable::list_as_newest(std::uint32_t index, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  flow.listed_us = ts_us;
  flow.recent_next = newest_;
  flow.recent_prev = kNoFlow;
  if (newest_ != kNoFlow) entry(newest_).recent_prev = index;
  newest_ = index;
  if (oldest_ == kNoFlow) oldest_ = index;
}

void FlowTable::unlink_recent(std::uint32_t index) {
  FlowEntry& flow = entry(index);
  if (flow.recent_prev != kNoFlow) {
    entry(flow.recent_prev).recent_next = flow.recent_next;
  } else if (newest_ == index) {
    newest_ = flow.recent_next;
  }
  if (flow.recent_next != kNoFlow) {
    entry(flow.recent_next).recent_prev = flow.recent_prev;
  } else if (oldest_ == index) {
    oldest_ = flow.recent_prev;
  }
  flow.recent_prev = kNoFlow;
  flow.recent_next = kNoFlow;
}

// Keeps flows that hold chunks in the order they last touched them, so memory
// pressure takes buffers from the flow that has sat on them longest.
void FlowTable::update_buffered_list(std::uint32_t index) {
  FlowEntry& flow = entry(index);
  unlink_buffered(index);
  if (!flow.holds_chunks()) return;
  flow.in_buffered_list = true;
  flow.buffered_prev = buffered_last_;
  flow.buffered_next = kNoFlow;
  if (buffered_last_ != kNoFlow) {
    entry(buffered_last_).buffered_next = index;
  } else {
    buffered_first_ = index;
  }
  buffered_last_ = index;
}

void FlowTable::unlink_buffered(std::uint32_t index) {
  FlowEntry& flow = entry(index);
  if (!flow.in_buffered_list) return;
  if (flow.buffered_prev != kNoFlow) {
    entry(flow.buffered_prev).buffered_next = flow.buffered_next;
  } else {
    buffered_first_ = flow.buffered_next;
  }
  if (flow.buffered_next != kNoFlow) {
    entry(flow.buffered_next).buffered_prev = flow.buffered_prev;
  } else {
    buffered_last_ = flow.buffered_prev;
  }
  flow.buffered_prev = kNoFlow;
  flow.buffered_next = kNoFlow;
  flow.in_buffered_list = false;
}

void FlowTable::on_segment(const PacketView& segment, std::size_t bucket) {
  ++counters_.segments;
  if ((segment.tcp_flags & kTcpSyn) != 0 && (segment.tcp_flags & kTcpRst) == 0) {
    on_syn(segment, bucket);
    return;
  }
  bool from_client = false;
  const std::uint32_t index = find(segment, bucket, from_client);
  if (index == kNoFlow) {
    on_untracked(segment);
    return;
  }
  on_tracked(index, from_client, segment);
}

void FlowTable::on_syn(const PacketView& segment, std::size_t bucket) {
  bool from_client = false;
  const std::uint32_t existing = find(segment, bucket, from_client);
  const bool is_syn_ack = (segment.tcp_flags & kTcpAck) != 0;
  if (existing != kNoFlow) {
    if (is_syn_ack || !from_client || entry(existing).next_seq - (segment.seq + 1) < kDuplicateSynWindow) {
      touch(existing, segment.ts_us);
      if (!from_client) counters_.server_bytes_skipped += segment.payload.size();
      return;
    }
    ++counters_.closed_reused;
    close(existing, CloseMode::kDeliver);
  }
  FlowEndpoints endpoints;
  std::uint32_t next_seq = 0;
  if (is_syn_ack) {  // the SYN was missed: the receiver is the client
    endpoints = {segment.dst, segment.src, segment.dst_port, segment.src_port};
    next_seq = segment.ack;
  } else {
    endpoints = {segment.src, segment.dst, segment.src_port, segment.dst_port};
    next_seq = segment.seq + 1;
  }
  if (!consumer_.wants_flow(endpoints)) {
    ++counters_.not_wanted;
    return;
  }
  const std::uint32_t index = create(endpoints, next_seq, segment.ts_us);
  if (is_syn_ack) {
    counters_.server_bytes_skipped += segment.payload.size();
    return;
  }
  // Data on a SYN (TCP Fast Open) starts right after the SYN's sequence number.
  on_tracked(index, true, PacketView{segment.ts_us, segment.src, segment.dst, segment.src_port, segment.dst_port,
                                     next_seq, segment.ack,
                                     static_cast<std::uint8_t>(segment.tcp_flags & ~kTcpSyn), segment.payload});
}

void FlowTable::on_untracked(const PacketView& segment) {
  if (segment.payload.empty() || (segment.tcp_flags & kTcpRst) != 0) {
    ++counters_.untracked_segments;
    return;
  }
  // First seen mid-stream: only a data segment the consumer recognises as
  // client->server opens the flow; its sender is the client.
  if (!consumer_.is_client_to_server(segment)) {
    ++counters_.undecided_segments;
    return;
  }
  const FlowEndpoints endpoints{segment.src, segment.dst, segment.src_port, segment.dst_port};
  const std::uint32_t index = create(endpoints, segment.seq, segment.ts_us);
  on_tracked(index, true, segment);
}

void FlowTable::on_tracked(std::uint32_t index, bool from_client, const PacketView& segment) {
  touch(index, segment.ts_us);
  if ((segment.tcp_flags & kTcpRst) != 0) {
    ++counters_.closed_rst;
    close(index, CloseMode::kDrop);
    return;
  }
  if (from_client) {
    current_ = index;
    if (!segment.payload.empty()) on_client_data(index, segment.seq, segment.payload, segment.ts_us);
    current_ = kNoFlow;
  } else {
    counters_.server_bytes_skipped += segment.payload.size();
  }
  if ((segment.tcp_flags & kTcpFin) != 0) {
    ++counters_.closed_fin;
    close(index, CloseMode::kDeliver);
    return;
  }
  // Only client bytes can give a flow chunks: a flow off the buffered list
  // that got none stays off without reading its chunk fields.
  if (entry(index).in_buffered_list || (from_client && !segment.payload.empty())) update_buffered_list(index);
}

void FlowTable::expire(std::int64_t now_us) {
  const std::int64_t cutoff = now_us - std::int64_t{config_.idle_timeout_s} * 1000000;
  while (oldest_ != kNoFlow && entry(oldest_).last_seen_us < cutoff) {
    ++counters_.expired_idle;
    close(oldest_, CloseMode::kDeliver);
  }
}

void FlowTable::flush_all() {
  while (oldest_ != kNoFlow) {
    ++counters_.closed_flush;
    close(oldest_, CloseMode::kDeliver);
  }
}

void FlowTable::report(StatsSink& sink) const {
  const FlowCounters& c = counters_;
  sink.counter("flow.segments", c.segments);
  sink.counter("flow.created", c.created);
  sink.counter("flow.active", active_);
  sink.counter("flow.closed_fin", c.closed_fin);
  sink.counter("flow.closed_rst", c.closed_rst);
  sink.counter("flow.closed_reused", c.closed_reused);
  sink.counter("flow.closed_flush", c.closed_flush);
  sink.counter("flow.expired_idle", c.expired_idle);
  sink.counter("flow.evicted_table_full", c.evicted_table_full);
  sink.counter("flow.evicted_for_memory", c.evicted_for_memory);
  sink.counter("flow.client_bytes", c.client_bytes);
  sink.counter("flow.retransmitted_bytes", c.retransmitted_bytes);
  sink.counter("flow.out_of_order_segments", c.out_of_order_segments);
  sink.counter("flow.ooo_overflow", c.ooo_overflow);
  sink.counter("flow.buffer_overflow", c.buffer_overflow);
  sink.counter("flow.buffer_pool_exhausted", c.buffer_pool_exhausted);
  sink.counter("flow.dropped_buffered_bytes", c.dropped_buffered_bytes);
  sink.counter("flow.gaps", c.gaps);
  sink.counter("flow.undecided_segments", c.undecided_segments);
  sink.counter("flow.not_wanted", c.not_wanted);
  sink.counter("flow.untracked_segments", c.untracked_segments);
  sink.counter("flow.server_bytes_skipped", c.server_bytes_skipped);
  sink.counter("flow.buffer_bytes_in_use", buffer_bytes_in_use());
}

}  // namespace ipattrib::agent
