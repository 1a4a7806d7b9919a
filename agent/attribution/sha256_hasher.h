// Sha256Hasher: SHA-256 of short strings (API keys) through OpenSSL's
// one-shot functions, which hash on the stack so that hashing on the packet
// path does not allocate. One per Attributor (per worker thread).
#pragma once

#include <string_view>

#include "agent/attribution/api_key_table.h"

namespace ipattrib::agent {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // False only if OpenSSL fails.
  bool digest(std::string_view data, Sha256Digest& out);
};

}  // namespace ipattrib::agent
