// SeededRandom: the generator's only source of randomness. A fixed algorithm
// (xoshiro256**, seeded through splitmix64) instead of <random> distributions,
// whose output differs between standard libraries: the same seed must give
// byte-identical captures on every machine.
#pragma once

#include <cstdint>

namespace ipattrib::bench {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : state_) s = splitmix64(x);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next() >> 32); }

  // Uniform in [0, n); n > 0. The bias of the multiply-shift is far below
  // anything a traffic mix can show.
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(next_u32()) * n) >> 32);
  }

  // Uniform in [lo, hi]; hi - lo < 2^32 - 1.
  std::uint32_t between(std::uint32_t lo, std::uint32_t hi) { return lo + below(hi - lo + 1); }

  // True with probability percent/100.
  bool percent(unsigned percent) { return below(100) < percent; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
};

}  // namespace ipattrib::bench
