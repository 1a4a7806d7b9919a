// Sha256Hasher: SHA-256 of short strings (API keys) through OpenSSL, reusing
// one digest context so that hashing on the packet path does not allocate.
// One per Attributor (per worker thread); not thread-safe.
#pragma once

#include <string_view>

#include "agent/attribution/api_key_table.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;

namespace ipattrib::agent {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // False only if OpenSSL fails (no SHA-256 provider, out of memory).
  bool digest(std::string_view data, Sha256Digest& out);

 private:
  EVP_MD* md_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
};

}  // namespace ipattrib::agent
