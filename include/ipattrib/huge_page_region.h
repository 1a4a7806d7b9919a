// HugePageRegion: one block of address space for a table that is sized once
// (the flow table's entries and buckets, the geo cache's sets and answers).
// Large blocks are 2 MiB aligned and advised for transparent huge pages, so
// a table of a million flows is ~80 TLB entries instead of ~40 000 and a
// random lookup stops paying a page walk on top of its cache miss. The kernel commits pages when they are first
// touched, so memory grows with what the table actually uses and can never
// pass the size given here. Where huge pages are unavailable (THP "never",
// no madvise) the block is ordinary pages and works the same.
#pragma once

#include <cstddef>

namespace ipattrib {

class HugePageRegion {
 public:
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

  HugePageRegion() = default;
  // Reserves `bytes` (zero-filled on first touch). Throws std::bad_alloc when
  // the address space cannot be had, like operator new.
  explicit HugePageRegion(std::size_t bytes);
  HugePageRegion(const HugePageRegion&) = delete;
  HugePageRegion& operator=(const HugePageRegion&) = delete;
  HugePageRegion(HugePageRegion&& other) noexcept;
  HugePageRegion& operator=(HugePageRegion&& other) noexcept;
  ~HugePageRegion();

  void* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Huge pages were asked for: touching one byte may commit a whole 2 MiB.
  bool huge() const { return huge_; }
  // Memory committed once the first `used` bytes have been touched: `used`
  // rounded up to the page size the region was asked to use.
  std::size_t committed_bytes(std::size_t used) const;

 private:
  void release();

  void* data_ = nullptr;
  std::size_t size_ = 0;
  bool huge_ = false;
};

}  // namespace ipattrib
