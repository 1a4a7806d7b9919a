#include "collector/api/bearer_token_verifier.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "ipattrib/hex_digit.h"

namespace ipattrib::collector {
namespace {

std::array<std::uint8_t, 32> sha256(std::string_view text) {
  std::array<std::uint8_t, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

BearerTokenVerifier::BearerTokenVerifier(const std::vector<std::string>& token_sha256_hex) {
  for (const std::string& hex : token_sha256_hex) {
    if (hex.size() != 64) continue;
    std::array<std::uint8_t, 32> hash{};
    bool valid = true;
    for (std::size_t i = 0; i < 32 && valid; ++i) {
      const int hi = hex_digit_value(hex[2 * i]);
      const int lo = hex_digit_value(hex[2 * i + 1]);
      valid = hi >= 0 && lo >= 0;
      hash[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (valid) hashes_.push_back(hash);
  }
}

bool BearerTokenVerifier::accepts_header(std::string_view authorization) const {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || !ascii_iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return accepts_token(token);
}

bool BearerTokenVerifier::accepts_token(std::string_view token) const {
  if (token.empty()) return false;
  const std::array<std::uint8_t, 32> presented = sha256(token);
  // Every configured hash is compared, match or not, so timing does not say which matched.
  bool match = false;
  for (const auto& hash : hashes_) {
    match |= CRYPTO_memcmp(hash.data(), presented.data(), hash.size()) == 0;
  }
  return match;
}

std::string BearerTokenVerifier::sha256_hex(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : sha256(text)) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace ipattrib::collector
