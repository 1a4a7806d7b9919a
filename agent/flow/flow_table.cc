#include "agent/flow/flow_table.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
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

std::uint64_t hash_endpoint(const IpAddress& ip, std::uint16_t port, std::uint64_t seed) {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::memcpy(&lo, ip.bytes().data(), 8);
  std::memcpy(&hi, ip.bytes().data() + 8, 8);
  return mix64(mix64(lo ^ seed ^ port) ^ hi);
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
      hash_seed_(random_seed()),
      chunks_(config.max_total_buffer_bytes) {
  config_.max_flows = std::clamp<std::size_t>(config_.max_flows, 1, kNoFlow - 1);
  const std::size_t pieces = (config_.max_out_of_order_bytes + Chunk::kDataBytes - 1) / Chunk::kDataBytes;
  out_of_order_chunk_limit_ = std::min<std::size_t>(2 * pieces + 2, 255);
  buckets_.assign(std::bit_ceil(std::max<std::size_t>(config_.max_flows, 16)), kNoFlow);
  entry_slabs_.reserve((config_.max_flows >> kSlabShift) + 1);
  scratch_.resize(config_.max_buffered_bytes_per_flow + kDeliverySlice);
}

std::size_t FlowTable::memory_bytes() const {
  return sizeof(*this) + entries_created_ * sizeof(FlowEntry) + buckets_.capacity() * sizeof(std::uint32_t) +
         entry_slabs_.capacity() * sizeof(entry_slabs_[0]) + chunks_.reserved_bytes() + scratch_.capacity();
}

std::size_t FlowTable::hash_of(const IpAddress& a, std::uint16_t a_port, const IpAddress& b,
                               std::uint16_t b_port) const {
  // Sum is symmetric: both directions land in the same bucket.
  return mix64(hash_endpoint(a, a_port, hash_seed_) + hash_endpoint(b, b_port, hash_seed_)) & (buckets_.size() - 1);
}

std::uint32_t FlowTable::find(const PacketView& segment, bool& from_client) {
  std::uint32_t index = buckets_[hash_of(segment.src, segment.src_port, segment.dst, segment.dst_port)];
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
    const std::size_t count = std::min<std::size_t>(std::size_t{1} << kSlabShift, config_.max_flows - entries_created_);
    entry_slabs_.emplace_back(new FlowEntry[count]);
    for (std::size_t i = count; i-- > 0;) {
      entry_slabs_.back()[i].bucket_next = free_head_;
      free_head_ = static_cast<std::uint32_t>(entries_created_ + i);
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
  std::uint32_t& bucket =
      buckets_[hash_of(endpoints.client_ip, endpoints.client_port, endpoints.server_ip, endpoints.server_port)];
  flow.bucket_next = bucket;
  bucket = index;
  ++active_;
  ++counters_.created;
  touch(index, ts_us);
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
  std::uint32_t* link = &buckets_[hash_of(ep.client_ip, ep.client_port, ep.server_ip, ep.server_port)];
  while (*link != index) link = &entry(*link).bucket_next;
  *link = flow.bucket_next;
  flow.bucket_next = free_head_;
  free_head_ = index;
  --active_;
}

void FlowTable::touch(std::uint32_t index, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  flow.last_seen_us = ts_us;
  if (newest_ == index) return;
  unlink_recent(index);
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

void FlowTable::on_segment(const PacketView& segment) {
  ++counters_.segments;
  if ((segment.tcp_flags & kTcpSyn) != 0 && (segment.tcp_flags & kTcpRst) == 0) {
    on_syn(segment);
    return;
  }
  bool from_client = false;
  const std::uint32_t index = find(segment, from_client);
  if (index == kNoFlow) {
    on_untracked(segment);
    return;
  }
  on_tracked(index, from_client, segment);
}

void FlowTable::on_syn(const PacketView& segment) {
  bool from_client = false;
  const std::uint32_t existing = find(segment, from_client);
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
  update_buffered_list(index);
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
