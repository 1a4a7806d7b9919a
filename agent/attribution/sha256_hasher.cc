#include "agent/attribution/sha256_hasher.h"

// The one-shot SHA256_* functions are deprecated in OpenSSL 3 in favour of
// EVP, but EVP_DigestInit_ex2 allocates a fresh provider context on every
// call (two mallocs per API-key request, packet_path_alloc showed); these
// hash on the stack and never allocate.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace ipattrib::agent {

Sha256Hasher::Sha256Hasher() = default;

Sha256Hasher::~Sha256Hasher() = default;

bool Sha256Hasher::digest(std::string_view data, Sha256Digest& out) {
  static_assert(sizeof(Sha256Digest) == SHA256_DIGEST_LENGTH);
  SHA256_CTX context;
  if (SHA256_Init(&context) != 1) return false;
  if (SHA256_Update(&context, data.data(), data.size()) != 1) return false;
  return SHA256_Final(out.data(), &context) == 1;
}

}  // namespace ipattrib::agent
