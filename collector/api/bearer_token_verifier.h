// BearerTokenVerifier: decides whether an `Authorization: Bearer <token>`
// header carries one of the configured tokens. Only SHA-256 hashes are kept,
// and they are compared in constant time so response timing does not reveal
// how much of a guess was right. Never logs what it is given.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib::collector {

class BearerTokenVerifier {
 public:
  // Entries that are not 64 hex digits are ignored (parse_api_config rejects them).
  explicit BearerTokenVerifier(const std::vector<std::string>& token_sha256_hex);

  // The full header value, e.g. "Bearer abc". False when absent or malformed.
  bool accepts_header(std::string_view authorization) const;
  bool accepts_token(std::string_view token) const;

  // Lowercase hex SHA-256 of text (for configs and tests).
  static std::string sha256_hex(std::string_view text);

 private:
  std::vector<std::array<std::uint8_t, 32>> hashes_;
};

}  // namespace ipattrib::collector
