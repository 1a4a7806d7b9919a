// ChunkPool: the flow table's reassembly memory. Fixed-size chunks come from
// slabs that are allocated the first time they are needed and never freed, so
// the packet path stops allocating once the peak is reached, and the total can
// never pass the configured byte bound: allocate() returns kNoChunk instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ipattrib::agent {

inline constexpr std::uint32_t kNoChunk = 0xFFFFFFFFu;

// One piece of buffered client bytes. In an out-of-order list `seq` is the
// sequence number of data[0]; in a pending (unconsumed) chain it is unused.
struct Chunk {
  static constexpr std::size_t kBytes = 2048;
  static constexpr std::size_t kDataBytes = kBytes - 3 * sizeof(std::uint32_t);

  std::uint32_t next = kNoChunk;
  std::uint32_t seq = 0;
  std::uint32_t len = 0;
  std::uint8_t data[kDataBytes];
};
static_assert(sizeof(Chunk) == Chunk::kBytes);

class ChunkPool {
 public:
  explicit ChunkPool(std::size_t max_bytes);
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A chunk with next = kNoChunk and len = 0, or kNoChunk when the bound is
  // reached and nothing is free.
  std::uint32_t allocate();
  void release(std::uint32_t index);
  // Releases `head` and every chunk linked after it.
  void release_chain(std::uint32_t head);

  Chunk& at(std::uint32_t index) { return slabs_[index >> kSlabShift][index & kSlabMask]; }
  const Chunk& at(std::uint32_t index) const { return slabs_[index >> kSlabShift][index & kSlabMask]; }

  std::size_t chunks_in_use() const { return in_use_; }
  std::size_t max_chunks() const { return max_chunks_; }
  // Bytes of chunk memory obtained from the system so far.
  std::size_t reserved_bytes() const { return created_ * sizeof(Chunk); }

 private:
  static constexpr int kSlabShift = 8;  // 256 chunks = 512 KiB per slab
  static constexpr std::uint32_t kSlabMask = (1u << kSlabShift) - 1;

  bool grow();

  std::size_t max_chunks_;
  std::size_t created_ = 0;
  std::size_t in_use_ = 0;
  std::uint32_t free_head_ = kNoChunk;
  std::vector<std::unique_ptr<Chunk[]>> slabs_;
};

}  // namespace ipattrib::agent
