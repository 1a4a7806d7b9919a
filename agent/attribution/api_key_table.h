// ApiKeyTable: which account (and optionally principal) each API key belongs
// to, loaded from an operator's key file. The file holds only SHA-256 digests
// of keys, never the keys, so neither it nor this process's memory is a list
// of usable secrets:
//
//   # sha256(key) in hex                                              account  [principal]
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 acme     ci-bot
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib::agent {

using Sha256Digest = std::array<std::uint8_t, 32>;

struct ApiKeyOwner {
  std::string account;
  std::string principal;  // empty when the line names none
};

class ApiKeyTable {
 public:
  struct LoadError {
    std::uint32_t line = 0;  // 0: the file as a whole (cannot be read)
    std::string message;
  };

  // Every bad line is reported; good lines are kept either way.
  static ApiKeyTable parse(std::string_view text, std::vector<LoadError>& errors);
  static ApiKeyTable load(const std::string& path, std::vector<LoadError>& errors);

  const ApiKeyOwner* find(const Sha256Digest& digest) const;
  std::size_t size() const { return owners_.size(); }

 private:
  // Open addressing with linear probing over digests kept inline: a lookup
  // reads one slot's cache line (the unordered_map it replaces chased a
  // bucket and a node, ~2.8% of the packet path). At most half full.
  struct Slot {
    Sha256Digest digest{};
    std::uint32_t owner = 0;  // index into owners_ + 1; 0: empty
  };
  static std::size_t home_slot(const Sha256Digest& d, std::size_t mask) {
    std::uint64_t h;  // the digest is already uniformly distributed
    std::memcpy(&h, d.data(), sizeof(h));
    return static_cast<std::size_t>(h) & mask;
  }
  // Room for `keys` digests at most half full (slots grow to a power of two).
  void reserve(std::size_t keys);
  // False when the digest is already present.
  bool insert(const Sha256Digest& digest, ApiKeyOwner owner);
  void place(const Sha256Digest& digest, std::uint32_t owner);

  std::vector<Slot> slots_;
  std::vector<ApiKeyOwner> owners_;
};

}  // namespace ipattrib::agent
