// FlowTable's client-stream reassembly: in-order delivery without copies,
// bounded buffering of unconsumed and out-of-order bytes, and skipping holes
// when a bound says the missing bytes will not be waited for any longer.
// Sequence numbers are compared by signed 32-bit difference (mod 2^32).
#include <algorithm>
#include <cstring>

#include "agent/flow/flow_table.h"

namespace ipattrib::agent {
namespace {

std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b); }

}  // namespace

void FlowTable::on_client_data(std::uint32_t index, std::uint32_t seq, std::span<const std::uint8_t> data,
                               std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  bool counted_out_of_order = false;
  while (!data.empty()) {
    const std::int32_t ahead = seq_diff(seq, flow.next_seq);
    if (ahead < 0) {  // already handed over: a retransmission or an overlap
      const std::size_t old = std::min<std::size_t>(data.size(), -static_cast<std::int64_t>(ahead));
      counters_.retransmitted_bytes += old;
      data = data.subspan(old);
      seq += static_cast<std::uint32_t>(old);
      continue;
    }
    if (ahead == 0) {
      flow.next_seq += static_cast<std::uint32_t>(data.size());
      deliver(index, data, ts_us);
      drain_out_of_order(index, ts_us);
      return;
    }
    if (!counted_out_of_order) {
      ++counters_.out_of_order_segments;
      counted_out_of_order = true;
    }
    if (buffer_out_of_order(index, seq, data)) return;
    // A bound is hit: stop waiting for the oldest hole.
    ++counters_.ooo_overflow;
    if (flow.out_of_order_head == kNoChunk || seq_diff(seq, chunks_.at(flow.out_of_order_head).seq) <= 0) {
      skip_to(index, seq);  // the next loop turn delivers this segment in order
      continue;
    }
    skip_to(index, chunks_.at(flow.out_of_order_head).seq);
    drain_out_of_order(index, ts_us);
  }
}

void FlowTable::deliver(std::uint32_t index, std::span<const std::uint8_t> data, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  counters_.client_bytes += data.size();
  while (!data.empty()) {
    if (flow.pending_head == kNoChunk) {  // common case: straight from the packet
      const std::size_t used = consumer_.on_client_bytes(flow.endpoints, flow.stream, data, ts_us);
      keep_unconsumed(index, data.subspan(std::min(used, data.size())));
      return;
    }
    // The consumer must see its unconsumed bytes and the new ones contiguous.
    std::size_t have = 0;
    for (std::uint32_t c = flow.pending_head; c != kNoChunk; c = chunks_.at(c).next) {
      std::memcpy(scratch_.data() + have, chunks_.at(c).data, chunks_.at(c).len);
      have += chunks_.at(c).len;
    }
    chunks_.release_chain(flow.pending_head);
    flow.pending_head = kNoChunk;
    flow.pending_len = 0;
    const std::size_t take = std::min(data.size(), scratch_.size() - have);
    std::memcpy(scratch_.data() + have, data.data(), take);
    data = data.subspan(take);
    const std::span<const std::uint8_t> joined(scratch_.data(), have + take);
    const std::size_t used = consumer_.on_client_bytes(flow.endpoints, flow.stream, joined, ts_us);
    keep_unconsumed(index, joined.subspan(std::min(used, joined.size())));
  }
}

void FlowTable::keep_unconsumed(std::uint32_t index, std::span<const std::uint8_t> rest) {
  if (rest.empty()) return;
  FlowEntry& flow = entry(index);
  if (rest.size() > config_.max_buffered_bytes_per_flow) {
    ++counters_.buffer_overflow;
    counters_.dropped_buffered_bytes += rest.size();
    report_gap(index);
    return;
  }
  std::uint32_t* link = &flow.pending_head;
  for (std::size_t offset = 0; offset < rest.size();) {
    const std::uint32_t c = allocate_chunk();
    if (c == kNoChunk) {
      chunks_.release_chain(flow.pending_head);
      flow.pending_head = kNoChunk;
      ++counters_.buffer_pool_exhausted;
      counters_.dropped_buffered_bytes += rest.size();
      report_gap(index);
      return;
    }
    Chunk& chunk = chunks_.at(c);
    chunk.len = static_cast<std::uint32_t>(std::min(Chunk::kDataBytes, rest.size() - offset));
    std::memcpy(chunk.data, rest.data() + offset, chunk.len);
    offset += chunk.len;
    *link = c;
    link = &chunk.next;
  }
  flow.pending_len = static_cast<std::uint32_t>(rest.size());
}

// Inserts the bytes of [seq, seq + size) not yet held into the flow's sorted,
// disjoint list of pieces. Returns false (having inserted a prefix at most)
// when a per-flow bound or the pool would be exceeded.
bool FlowTable::buffer_out_of_order(std::uint32_t index, std::uint32_t seq, std::span<const std::uint8_t> data) {
  FlowEntry& flow = entry(index);
  const std::uint32_t base = flow.next_seq;
  auto start_of = [&](std::uint32_t c) -> std::uint64_t { return chunks_.at(c).seq - base; };
  auto end_of = [&](std::uint32_t c) -> std::uint64_t { return start_of(c) + chunks_.at(c).len; };
  const std::uint64_t first = seq - base;
  const std::uint64_t last = first + data.size();

  // Dry run: how many new bytes and chunks would the holes take?
  std::uint64_t new_bytes = 0;
  std::uint64_t new_chunks = 0;
  std::uint32_t cur = flow.out_of_order_head;
  for (std::uint64_t at = first; at < last;) {
    while (cur != kNoChunk && end_of(cur) <= at) cur = chunks_.at(cur).next;
    if (cur != kNoChunk && start_of(cur) <= at) {
      at = end_of(cur);
      continue;
    }
    const std::uint64_t hole_end = cur != kNoChunk ? std::min(last, start_of(cur)) : last;
    new_bytes += hole_end - at;
    new_chunks += (hole_end - at + Chunk::kDataBytes - 1) / Chunk::kDataBytes;
    at = hole_end;
  }
  if (flow.out_of_order_bytes + new_bytes > config_.max_out_of_order_bytes ||
      flow.out_of_order_chunks + new_chunks > out_of_order_chunk_limit_) {
    return false;
  }
  counters_.retransmitted_bytes += data.size() - new_bytes;

  std::uint32_t* link = &flow.out_of_order_head;
  for (std::uint64_t at = first; at < last;) {
    while (*link != kNoChunk && end_of(*link) <= at) link = &chunks_.at(*link).next;
    if (*link != kNoChunk && start_of(*link) <= at) {
      at = end_of(*link);
      continue;
    }
    const std::uint64_t hole_end = *link != kNoChunk ? std::min(last, start_of(*link)) : last;
    while (at < hole_end) {
      const std::uint32_t c = allocate_chunk();
      if (c == kNoChunk) {
        ++counters_.buffer_pool_exhausted;
        return false;
      }
      Chunk& chunk = chunks_.at(c);
      chunk.seq = base + static_cast<std::uint32_t>(at);
      chunk.len = static_cast<std::uint32_t>(std::min<std::uint64_t>(Chunk::kDataBytes, hole_end - at));
      std::memcpy(chunk.data, data.data() + (at - first), chunk.len);
      chunk.next = *link;
      *link = c;
      link = &chunk.next;
      at += chunk.len;
      flow.out_of_order_bytes += chunk.len;
      ++flow.out_of_order_chunks;
    }
  }
  return true;
}

void FlowTable::drain_out_of_order(std::uint32_t index, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  while (flow.out_of_order_head != kNoChunk) {
    const std::uint32_t c = flow.out_of_order_head;
    const Chunk& chunk = chunks_.at(c);
    const std::int32_t ahead = seq_diff(chunk.seq, flow.next_seq);
    if (ahead > 0) return;  // the hole before it is still open
    flow.out_of_order_head = chunk.next;
    flow.out_of_order_bytes -= chunk.len;
    --flow.out_of_order_chunks;
    const std::uint32_t old = std::min<std::uint32_t>(chunk.len, static_cast<std::uint32_t>(-ahead));
    counters_.retransmitted_bytes += old;
    if (old < chunk.len) {
      flow.next_seq += chunk.len - old;
      // The chunk is unlinked but still ours until released: deliver from it.
      deliver(index, std::span<const std::uint8_t>(chunk.data + old, chunk.len - old), ts_us);
    }
    chunks_.release(c);
  }
}

void FlowTable::skip_to(std::uint32_t index, std::uint32_t seq) {
  FlowEntry& flow = entry(index);
  // Unconsumed bytes before a hole can never be completed.
  counters_.dropped_buffered_bytes += flow.pending_len;
  chunks_.release_chain(flow.pending_head);
  flow.pending_head = kNoChunk;
  flow.pending_len = 0;
  flow.next_seq = seq;
  report_gap(index);
}

void FlowTable::deliver_past_holes(std::uint32_t index, std::int64_t ts_us) {
  FlowEntry& flow = entry(index);
  while (flow.out_of_order_head != kNoChunk) {
    const std::uint32_t seq = chunks_.at(flow.out_of_order_head).seq;
    if (seq_diff(seq, flow.next_seq) > 0) skip_to(index, seq);
    drain_out_of_order(index, ts_us);
  }
}

void FlowTable::report_gap(std::uint32_t index) {
  ++counters_.gaps;
  consumer_.on_gap(entry(index).endpoints, entry(index).stream);
}

void FlowTable::drop_buffers(std::uint32_t index) {
  FlowEntry& flow = entry(index);
  counters_.dropped_buffered_bytes += flow.pending_len + flow.out_of_order_bytes;
  chunks_.release_chain(flow.pending_head);
  chunks_.release_chain(flow.out_of_order_head);
  flow.pending_head = kNoChunk;
  flow.pending_len = 0;
  flow.out_of_order_head = kNoChunk;
  flow.out_of_order_bytes = 0;
  flow.out_of_order_chunks = 0;
}

std::uint32_t FlowTable::allocate_chunk() {
  for (;;) {
    const std::uint32_t c = chunks_.allocate();
    if (c != kNoChunk || !evict_oldest_buffers()) return c;
  }
}

// Takes every chunk of the flow that has held buffers longest — never the
// flow being worked on — and tells its consumer it lost bytes.
bool FlowTable::evict_oldest_buffers() {
  std::uint32_t victim = buffered_first_;
  if (victim == current_ && victim != kNoFlow) victim = entry(victim).buffered_next;
  if (victim == kNoFlow) return false;
  ++counters_.evicted_for_memory;
  drop_buffers(victim);
  unlink_buffered(victim);
  report_gap(victim);
  return true;
}

}  // namespace ipattrib::agent
