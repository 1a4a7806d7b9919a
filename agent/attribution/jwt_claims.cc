#include "agent/attribution/jwt_claims.h"

#include <array>
#include <cstdint>

#include "agent/attribution/json_claim_scanner.h"

namespace ipattrib::agent {
namespace {

// base64url alphabet value of each byte, -1 for bytes outside it.
constexpr std::array<std::int8_t, 256> make_base64url_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = static_cast<std::int8_t>(c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) table[c] = static_cast<std::int8_t>(c - 'a' + 26);
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<std::int8_t>(c - '0' + 52);
  table['-'] = 62;
  table['_'] = 63;
  return table;
}

constexpr std::array<std::int8_t, 256> kBase64url = make_base64url_table();

// The same values already shifted into place for each of the four
// characters of a group (bit 31 set for bytes outside the alphabet), so a
// group decodes with four loads and three ORs.
constexpr std::uint32_t kNotBase64 = 0x80000000u;

constexpr std::array<std::array<std::uint32_t, 256>, 4> make_shifted_tables() {
  std::array<std::array<std::uint32_t, 256>, 4> tables{};
  for (int position = 0; position < 4; ++position) {
    for (int c = 0; c < 256; ++c) {
      const int v = kBase64url[static_cast<std::size_t>(c)];
      tables[position][c] = v < 0 ? kNotBase64 : static_cast<std::uint32_t>(v) << (18 - 6 * position);
    }
  }
  return tables;
}

constexpr std::array<std::array<std::uint32_t, 256>, 4> kShifted = make_shifted_tables();

}  // namespace

JwtClaimReader::JwtClaimReader() { payload_.reserve(kMaxEncodedPayload / 4 * 3 + 3); }

bool JwtClaimReader::decode_payload(std::string_view encoded) {
  payload_.clear();
  while (!encoded.empty() && encoded.back() == '=') encoded.remove_suffix(1);  // tolerate padding
  if (encoded.empty() || encoded.size() > kMaxEncodedPayload || encoded.size() % 4 == 1) return false;
  // Written in place (the capacity is reserved once): four characters make
  // three bytes, a trailing two or three make one or two.
  payload_.resize(encoded.size() / 4 * 3 + 2);
  char* out = payload_.data();
  std::size_t i = 0;
  const auto* in = reinterpret_cast<const std::uint8_t*>(encoded.data());
  for (; i + 4 <= encoded.size(); i += 4) {
    const std::uint32_t bits =
        kShifted[0][in[i]] | kShifted[1][in[i + 1]] | kShifted[2][in[i + 2]] | kShifted[3][in[i + 3]];
    if ((bits & kNotBase64) != 0) return false;
    *out++ = static_cast<char>(bits >> 16);
    *out++ = static_cast<char>(bits >> 8);
    *out++ = static_cast<char>(bits);
  }
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (; i < encoded.size(); ++i) {
    const int v = kBase64url[static_cast<std::uint8_t>(encoded[i])];
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      *out++ = static_cast<char>((bits >> bit_count) & 0xff);
    }
  }
  payload_.resize(static_cast<std::size_t>(out - payload_.data()));
  return true;
}

JwtClaimReader::Result JwtClaimReader::read(std::string_view token, std::string_view account_claim,
                                            std::string_view principal_claim, IdText& account, IdText& principal) {
  account.clear();
  principal.clear();
  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return Result::kNotJwt;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return Result::kNotJwt;
  }
  if (!decode_payload(token.substr(first_dot + 1, second_dot - first_dot - 1))) return Result::kInvalid;

  JsonClaimScanner claims(account_claim, principal_claim, account, principal);
  if (!claims.scan(payload_)) {
    account.clear();
    principal.clear();
    return Result::kInvalid;
  }
  if (!claims.found_account()) {
    principal.clear();
    return Result::kMissingClaim;
  }
  return Result::kFound;
}

}  // namespace ipattrib::agent
