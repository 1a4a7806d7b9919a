#include "agent/flow/chunk_pool.h"

#include <algorithm>

namespace ipattrib::agent {

ChunkPool::ChunkPool(std::size_t max_bytes)
    : max_chunks_(std::min<std::size_t>(max_bytes / sizeof(Chunk), kNoChunk - 1)) {
  slabs_.reserve((max_chunks_ >> kSlabShift) + 1);
}

bool ChunkPool::grow() {
  if (created_ >= max_chunks_) return false;
  const std::size_t count = std::min<std::size_t>(std::size_t{1} << kSlabShift, max_chunks_ - created_);
  // Deliberately uninitialised bytes: a chunk's data is written before it is read.
  slabs_.emplace_back(new Chunk[count]);
  // Thread the new chunks onto the free list so low indices come out first.
  for (std::size_t i = count; i-- > 0;) {
    Chunk& chunk = slabs_.back()[i];
    chunk.next = free_head_;
    free_head_ = static_cast<std::uint32_t>(created_ + i);
  }
  created_ += count;
  return true;
}

std::uint32_t ChunkPool::allocate() {
  if (free_head_ == kNoChunk && !grow()) return kNoChunk;
  const std::uint32_t index = free_head_;
  Chunk& chunk = at(index);
  free_head_ = chunk.next;
  chunk.next = kNoChunk;
  chunk.len = 0;
  ++in_use_;
  return index;
}

void ChunkPool::release(std::uint32_t index) {
  Chunk& chunk = at(index);
  chunk.next = free_head_;
  free_head_ = index;
  --in_use_;
}

void ChunkPool::release_chain(std::uint32_t head) {
  while (head != kNoChunk) {
    const std::uint32_t next = at(head).next;
    release(head);
    head = next;
  }
}

}  // namespace ipattrib::agent
