#include "agent/geo/geo_cache.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <span>

#include "ipattrib/hash_mix.h"

namespace ipattrib::agent {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// The first `bits` (0..64) bits of a 64-bit word.
std::uint64_t leading_bits_mask(int bits) { return bits <= 0 ? 0 : ~0ull << (64 - bits); }

// Masks for the first prefix_length bits of a 128-bit address.
void prefix_masks(int prefix_length, std::uint64_t* high, std::uint64_t* low) {
  *high = prefix_length <= 0 ? 0 : (prefix_length >= 64 ? ~0ull : ~0ull << (64 - prefix_length));
  *low = prefix_length <= 64 ? 0 : (prefix_length >= 128 ? ~0ull : ~0ull << (128 - prefix_length));
}

bool is_v4_mapped(std::uint64_t high, std::uint64_t low) {
  return high == 0 && (low >> 32) == 0xffff;
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
  set_region_ = HugePageRegion(sets * sizeof(Set));
  answer_region_ = HugePageRegion(static_cast<std::size_t>(sets) * kWays * sizeof(Answer));
  // The regions come zero-filled, and all-zero bytes are an empty set (no
  // way valid) and an empty answer, so nothing is written here: writing
  // 5 MB of zeros over zeros was ~10 % of the agent's start-up, and pages
  // the lookups never reach are never committed.
  sets_ = static_cast<Set*>(set_region_.data());
  answers_ = static_cast<Answer*>(answer_region_.data());
  set_count_ = sets;
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
  const bool first = !databases_;
  databases_ = resolver_.snapshot();
  generation_ = databases_->generation;
  // The first time, the sets are still as the zero-filled region made them:
  // clearing would only commit all their pages at once.
  if (first) return;
  // Answers (and their as_org views) belong to the old files.
  for (Set& set : std::span<Set>(sets_, set_count_)) {
    std::fill(std::begin(set.flags), std::end(set.flags), std::uint8_t{0});
  }
}

GeoCache::Key GeoCache::key_of(const IpAddress& address) {
  Key key;
  key.high = load_be64(address.bytes().data());
  key.low = load_be64(address.bytes().data() + 8);
  key.v4 = address.is_v4() || is_v4_mapped(key.high, key.low);  // looked up as IPv4 either way
  return key;
}

std::uint32_t GeoCache::set_index(const Key& key) const {
  std::uint64_t mask_high;
  std::uint64_t mask_low;
  prefix_masks(key.v4 ? kV4BucketBits : kV6BucketBits, &mask_high, &mask_low);
  // murmur3's 64-bit finaliser: every input bit reaches the low bits we keep.
  const std::uint64_t h = mix64((key.high & mask_high) ^ ((key.low & mask_low) * 0x9e3779b97f4a7c15ull));
  return static_cast<std::uint32_t>(h) & set_mask_;
}

void GeoCache::prefetch(const IpAddress& address) const {
  if (set_count_ == 0 || !address.is_set()) return;
  const std::uint32_t index = set_index(key_of(address));
  __builtin_prefetch(&sets_[index]);
  const Answer* answers = &answers_[static_cast<std::size_t>(index) * kWays];
  for (std::uint32_t way = 0; way < kWays; ++way) __builtin_prefetch(&answers[way]);
}

void GeoCache::enrich(const IpAddress& address, GeoInfo& geo) {
  geo = GeoInfo{};
  if (!address.is_set()) {
    bump(unset_address_);
    return;
  }
  if (resolver_.generation() != generation_ || !databases_) pick_up_generation();

  const Key key = key_of(address);
  // The tag word: IPv4 lives in the low word (::ffff:a.b.c.d), the rest of
  // IPv6 networks up to /64 in the high word.
  const std::uint64_t word = key.v4 ? key.low : key.high;
  const std::uint8_t family = key.v4 ? kV4 : 0;

  Set* set = nullptr;
  Answer* answers = nullptr;
  if (set_count_ != 0) {
    const std::uint32_t index = set_index(key);
    set = &sets_[index];
    answers = &answers_[static_cast<std::size_t>(index) * kWays];
    for (std::uint32_t way = 0; way < kWays; ++way) {
      const std::uint8_t flags = set->flags[way];
      if ((flags & (kValid | kV4)) != (kValid | family)) continue;
      if (((word ^ set->key[way]) & leading_bits_mask(set->key_bits[way])) != 0) continue;
      const Answer& answer = answers[way];
      if ((flags & kLongV6) != 0 && ((key.low ^ answer.low) & leading_bits_mask(set->low_bits[way])) != 0) continue;
      geo = answer.info;
      bump(hits_);
      return;
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
  while (way < kWays && (set->flags[way] & kValid) != 0) ++way;
  if (way == kWays) way = set->next_victim++ % kWays;
  // Prefix bits of the tag word: IPv4's /p covers the low word's 32 bits of
  // ::ffff: plus p; IPv6 past /64 keeps its remaining bits in the answer.
  const int prefix = outcome.prefix_length;
  const int key_bits = key.v4 ? 32 + std::clamp(prefix, 0, 32) : std::clamp(prefix, 0, 64);
  Answer& answer = answers[way];
  std::uint8_t flags = kValid | family;
  if (!key.v4 && prefix > 64) {
    flags |= kLongV6;
    set->low_bits[way] = static_cast<std::uint8_t>(std::min(prefix, 128) - 64);
    answer.low = key.low & leading_bits_mask(set->low_bits[way]);
  }
  set->key_bits[way] = static_cast<std::uint8_t>(key_bits);
  set->key[way] = word & leading_bits_mask(key_bits);
  set->flags[way] = flags;
  answer.info = geo;
}

}  // namespace ipattrib::agent
