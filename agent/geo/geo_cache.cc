#include "agent/geo/geo_cache.h"

#include <sys/mman.h>

#include <bit>
#include <cstring>

#include "ipattrib/hash_mix.h"

namespace ipattrib::agent {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Masks for the first prefix_length bits of a 128-bit address.
void prefix_masks(int prefix_length, std::uint64_t* high, std::uint64_t* low) {
  *high = prefix_length <= 0 ? 0 : (prefix_length >= 64 ? ~0ull : ~0ull << (64 - prefix_length));
  *low = prefix_length <= 64 ? 0 : (prefix_length >= 128 ? ~0ull : ~0ull << (128 - prefix_length));
}

bool is_v4_mapped(std::uint64_t high, std::uint64_t low) {
  return high == 0 && (low >> 32) == 0xffff;
}

// Marks the whole 2 MiB pages inside [data, data + bytes) for transparent
// huge pages (THP "madvise" mode, Debian's default). Best effort.
void advise_huge_pages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHugePage - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// Bucket sizes: clients of one /24 or /48 usually share their networks, so
// their entries land in the same set and find each other.
constexpr int kV4BucketBits = 96 + 24;
constexpr int kV6BucketBits = 48;

}  // namespace

GeoCacheStats& GeoCacheStats::operator+=(const GeoCacheStats& other) {
  hits += other.hits;
  misses += other.misses;
  lookups_failed += other.lookups_failed;
  unset_address += other.unset_address;
  return *this;
}

void GeoCacheStats::report(StatsSink& sink) const {
  sink.counter("geo.cache_hits", hits);
  sink.counter("geo.cache_misses", misses);
  sink.counter("geo.lookups_failed", lookups_failed);
  sink.counter("geo.unset_address", unset_address);
}

GeoCache::GeoCache(const GeoResolver& resolver, std::uint32_t capacity) : resolver_(resolver) {
  if (capacity == 0) return;
  const std::uint32_t sets = std::bit_ceil(std::max<std::uint32_t>(1, (capacity + kWays - 1) / kWays));
  // Each lookup lands on a random set of a table of megabytes (6 MB at the
  // default 65536 entries): with 4 KiB pages nearly every one was a TLB miss
  // as well as a cache miss (perf: ~8% of the packet path). Ask for huge
  // pages before the table is first touched.
  entries_.reserve(static_cast<std::size_t>(sets) * kWays);
  advise_huge_pages(entries_.data(), entries_.capacity() * sizeof(Entry));
  entries_.resize(static_cast<std::size_t>(sets) * kWays);
  next_victim_.resize(sets);
  set_mask_ = sets - 1;
}

GeoCacheStats GeoCache::stats() const {
  GeoCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.lookups_failed = lookups_failed_.load(std::memory_order_relaxed);
  s.unset_address = unset_address_.load(std::memory_order_relaxed);
  return s;
}

void GeoCache::pick_up_generation() {
  databases_ = resolver_.snapshot();
  generation_ = databases_->generation;
  for (Entry& e : entries_) e.valid = false;  // answers (and as_org views) belong to the old files
}

std::uint32_t GeoCache::set_index(std::uint64_t high, std::uint64_t low, bool v4) const {
  std::uint64_t mask_high;
  std::uint64_t mask_low;
  prefix_masks(v4 ? kV4BucketBits : kV6BucketBits, &mask_high, &mask_low);
  // murmur3's 64-bit finaliser: every input bit reaches the low bits we keep.
  const std::uint64_t h = mix64((high & mask_high) ^ ((low & mask_low) * 0x9e3779b97f4a7c15ull));
  return static_cast<std::uint32_t>(h) & set_mask_;
}

void GeoCache::enrich(const IpAddress& address, GeoInfo& geo) {
  geo = GeoInfo{};
  if (!address.is_set()) {
    bump(unset_address_);
    return;
  }
  if (resolver_.generation() != generation_ || !databases_) pick_up_generation();

  const std::uint64_t high = load_be64(address.bytes().data());
  const std::uint64_t low = load_be64(address.bytes().data() + 8);
  const bool v4 = address.is_v4() || is_v4_mapped(high, low);  // looked up as IPv4 either way

  Entry* set = nullptr;
  if (!entries_.empty()) {
    set = &entries_[static_cast<std::size_t>(set_index(high, low, v4)) * kWays];
    for (std::uint32_t way = 0; way < kWays; ++way) {
      const Entry& e = set[way];
      if (e.valid && e.v4 == v4 && ((high ^ e.high) & e.mask_high) == 0 && ((low ^ e.low) & e.mask_low) == 0) {
        geo = e.info;
        bump(hits_);
        return;
      }
    }
  }

  const GeoLookupOutcome outcome = databases_->lookup(address, geo);
  if (outcome.failed) {
    bump(lookups_failed_);  // not cached: the next address of the network tries again
    return;
  }
  bump(misses_);
  if (set == nullptr) return;

  std::uint32_t way = 0;
  while (way < kWays && set[way].valid) ++way;
  const std::size_t set_number = static_cast<std::size_t>(set - entries_.data()) / kWays;
  if (way == kWays) way = next_victim_[set_number]++ % kWays;
  Entry& e = set[way];
  prefix_masks(v4 ? 96 + outcome.prefix_length : outcome.prefix_length, &e.mask_high, &e.mask_low);
  e.high = high & e.mask_high;
  e.low = low & e.mask_low;
  e.v4 = v4;
  e.info = geo;
  e.valid = true;
}

}  // namespace ipattrib::agent
