// GeoCache: one worker thread's way to geo-enrich events. Answers from a
// bounded cache of networks (a lookup's answer holds for the whole network
// the databases return, so one lookup serves every address in it), falling
// back to the resolver's current database set. Owned by one worker: no lock
// and no allocation per lookup; a new database generation is noticed by one
// atomic load per lookup and drops the cache.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "agent/geo/geo_resolver.h"
#include "ipattrib/geo_info.h"
#include "ipattrib/huge_page_region.h"
#include "ipattrib/ip_address.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct GeoCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;          // answered by the databases
  std::uint64_t lookups_failed = 0;  // a database returned an error; answer may be partly unknown
  std::uint64_t unset_address = 0;   // no client address to look up
  GeoCacheStats& operator+=(const GeoCacheStats& other);
  // geo.cache_hits, geo.cache_misses, geo.lookups_failed, geo.unset_address.
  void report(StatsSink& sink) const;
};

class GeoCache {
 public:
  // Ways per set; a set holds networks sharing a bucket (IPv4 /24, IPv6 /48).
  static constexpr std::uint32_t kWays = 4;

  // capacity: entries, rounded up to a power of two >= kWays; 0 disables
  // caching (every lookup goes to the databases).
  GeoCache(const GeoResolver& resolver, std::uint32_t capacity);

  // Sets geo to what the databases say about address (unknown values where
  // they know nothing). geo.as_org stays valid until the next enrich().
  void enrich(const IpAddress& address, GeoInfo& geo);

  // A hint that enrich(address) follows soon: starts loading the lines a
  // lookup of address reads (its set's tags and answers), so the cache miss
  // overlaps the caller's work in between. Changes nothing.
  void prefetch(const IpAddress& address) const;

  // Safe to call from another thread (the stats reporter).
  GeoCacheStats stats() const;
  std::uint32_t capacity() const { return set_count_ * kWays; }
  // The database generation the cache answers from (0 before the first lookup).
  std::uint64_t generation() const { return generation_; }

 private:
  // A set is one cache line of tags: per way the network's leading 64 bits
  // (IPv4: the v4-mapped low word, IPv6: the high word) masked to its prefix,
  // the prefix length within that word, and flags. The answers live apart,
  // one line per way, beside the rest of a longer IPv6 prefix, so a lookup
  // reads one tag line and, on a hit, one answer line (it read up to six
  // lines of 96-byte entries before).
  struct alignas(64) Set {
    std::uint64_t key[kWays] = {};
    std::uint8_t key_bits[kWays] = {};  // prefix bits within key (0..64)
    std::uint8_t flags[kWays] = {};     // kValid | kV4 | kLongV6
    std::uint8_t low_bits[kWays] = {};  // kLongV6: prefix bits within the low word
    std::uint8_t next_victim = 0;       // round robin
  };
  struct alignas(64) Answer {
    std::uint64_t low = 0;  // IPv6 prefixes longer than 64: the low word, masked
    GeoInfo info;
  };
  static_assert(sizeof(Set) == 64 && sizeof(Answer) == 64, "a set's tags and each answer: one cache line");
  // Implicit-lifetime types whose zero bytes are their empty state: they live
  // in a zero-filled HugePageRegion without being constructed or destroyed.
  static_assert(std::is_aggregate_v<Set> && std::is_aggregate_v<Answer> && std::is_trivially_copyable_v<Set> &&
                    std::is_trivially_copyable_v<Answer>,
                "used in a zero-filled HugePageRegion without construction");
  static constexpr std::uint8_t kValid = 1;
  static constexpr std::uint8_t kV4 = 2;
  static constexpr std::uint8_t kLongV6 = 4;

  struct Key {
    std::uint64_t high = 0;  // address bits, host order
    std::uint64_t low = 0;
    bool v4 = false;
  };
  static Key key_of(const IpAddress& address);
  std::uint32_t set_index(const Key& key) const;

  void pick_up_generation();
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  const GeoResolver& resolver_;
  std::shared_ptr<const GeoDatabaseSet> databases_;  // keeps mapped files (and as_org views) alive
  std::uint64_t generation_ = 0;
  // Each lookup lands on a random set of tables of megabytes (5 MB at the
  // default 65536 entries): on 4 KiB pages nearly every one was a TLB miss
  // as well as a cache miss, so they live on huge pages.
  HugePageRegion set_region_;
  HugePageRegion answer_region_;
  Set* sets_ = nullptr;
  Answer* answers_ = nullptr;  // kWays per set, in set order
  std::uint32_t set_count_ = 0;
  std::uint32_t set_mask_ = 0;
  // Written only by the owning thread; atomics so stats() may read them.
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> lookups_failed_{0};
  std::atomic<std::uint64_t> unset_address_{0};
};

}  // namespace ipattrib::agent
