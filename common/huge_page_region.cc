#include "ipattrib/huge_page_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>

namespace ipattrib {
namespace {

std::size_t round_up(std::size_t value, std::size_t unit) { return (value + unit - 1) / unit * unit; }

std::size_t small_page_bytes() {
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<std::size_t>(page) : 4096;
}

}  // namespace

HugePageRegion::HugePageRegion(std::size_t bytes) {
  if (bytes == 0) return;
  // Below one huge page a huge page would only inflate the footprint.
  huge_ = bytes >= kHugePageBytes;
  size_ = round_up(bytes, huge_ ? kHugePageBytes : small_page_bytes());
  // Over-reserve by one huge page so the block can start on a 2 MiB boundary
  // (the kernel only backs aligned 2 MiB ranges with huge pages), then give
  // the slack back.
  const std::size_t reserve = huge_ ? size_ + kHugePageBytes : size_;
  void* base = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (!huge_) {
    data_ = base;
    return;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(base);
  const std::uintptr_t aligned = round_up(start, kHugePageBytes);
  const std::size_t head = aligned - start;
  const std::size_t tail = reserve - head - size_;
  if (head != 0) munmap(base, head);
  if (tail != 0) munmap(reinterpret_cast<void*>(aligned + size_), tail);
  data_ = reinterpret_cast<void*>(aligned);
  // Advice only: fails harmlessly where THP is off or unsupported.
  (void)madvise(data_, size_, MADV_HUGEPAGE);
}

HugePageRegion::HugePageRegion(HugePageRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      huge_(std::exchange(other.huge_, false)) {}

HugePageRegion& HugePageRegion::operator=(HugePageRegion&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    huge_ = std::exchange(other.huge_, false);
  }
  return *this;
}

HugePageRegion::~HugePageRegion() { release(); }

void HugePageRegion::release() {
  if (data_ != nullptr) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

std::size_t HugePageRegion::committed_bytes(std::size_t used) const {
  if (used == 0) return 0;
  const std::size_t committed = round_up(used, huge_ ? kHugePageBytes : small_page_bytes());
  return committed < size_ ? committed : size_;
}

}  // namespace ipattrib
