// mix64: MurmurHash3's 64-bit finalizer — every input bit affects every
// output bit. The one mixing step the agent's hash tables (flow table, geo
// cache) and the worker choice share.
#pragma once

#include <cstdint>

namespace ipattrib {

constexpr std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace ipattrib
