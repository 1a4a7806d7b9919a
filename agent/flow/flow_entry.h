// FlowEntry: one tracked TCP connection inside FlowTable. Entries live in
// slabs owned by the table and are linked by 32-bit indices (hash chain,
// recency list, list of flows holding buffers), so an entry costs no
// allocation of its own and stays small.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/flow/chunk_pool.h"
#include "agent/flow/client_stream_consumer.h"
#include "agent/http/request_stream_state.h"

namespace ipattrib::agent {

inline constexpr std::uint32_t kNoFlow = 0xFFFFFFFFu;

struct FlowEntry {
  // First 64 bytes: everything a packet without client payload reads or
  // writes (lookup, chain, recency), so at a million flows an ACK costs one
  // cache line of its entry (two when the 160-byte entry straddles a line).
  FlowEndpoints endpoints;  // direction is decided before an entry exists
  std::uint8_t out_of_order_chunks = 0;  // fills the padding after endpoints
  bool in_buffered_list = false;         // set exactly while holds_chunks()
  std::uint32_t bucket_next = kNoFlow;   // hash chain; free-list link when unused
  std::uint32_t next_seq = 0;            // next client byte not yet handed over
  std::int64_t last_seen_us = 0;
  // When the flow was last put at the recency list's newest end; the list is
  // sorted by it (see FlowTable::touch).
  std::int64_t listed_us = 0;

  // Reassembly and list links: client data, closing, moving in a list.
  std::uint32_t pending_head = kNoChunk;       // bytes the consumer left unconsumed
  std::uint32_t pending_len = 0;
  std::uint32_t out_of_order_head = kNoChunk;  // pieces after a hole, sorted, disjoint
  std::uint32_t out_of_order_bytes = 0;
  std::uint32_t recent_prev = kNoFlow;  // recency list: head = newest, tail = idle
  std::uint32_t recent_next = kNoFlow;
  std::uint32_t buffered_prev = kNoFlow;  // flows holding chunks, oldest first
  std::uint32_t buffered_next = kNoFlow;
  RequestStreamState stream;

  bool holds_chunks() const { return pending_head != kNoChunk || out_of_order_head != kNoChunk; }
};

// The packet-without-payload fields end where the first cache line does.
static_assert(offsetof(FlowEntry, pending_head) == 64);

}  // namespace ipattrib::agent
