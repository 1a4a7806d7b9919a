#include "agent/attribution/sha256_hasher.h"

#include <openssl/evp.h>

namespace ipattrib::agent {

Sha256Hasher::Sha256Hasher() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

bool Sha256Hasher::digest(std::string_view data, Sha256Digest& out) {
  if (md_ == nullptr || ctx_ == nullptr) return false;
  unsigned int length = 0;
  if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1) return false;
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) return false;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &length) != 1) return false;
  return length == out.size();
}

}  // namespace ipattrib::agent
