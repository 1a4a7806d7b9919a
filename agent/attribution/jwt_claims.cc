#include "agent/attribution/jwt_claims.h"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace ipattrib::agent {
namespace {

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Collects the top-level claims we look for; everything nested is skipped.
class ClaimCollector : public nlohmann::json_sax<nlohmann::json> {
 public:
  ClaimCollector(std::string_view account_claim, std::string_view principal_claim, IdText& account, IdText& principal)
      : account_claim_(account_claim), principal_claim_(principal_claim), account_(account), principal_(principal) {}

  bool found_account() const { return found_account_; }
  bool top_level_object() const { return top_level_object_; }

  bool null() override { return value_done(); }
  bool boolean(bool) override { return value_done(); }
  bool number_float(number_float_t, const string_t&) override { return value_done(); }
  bool binary(binary_t&) override { return value_done(); }
  bool number_integer(number_integer_t value) override { return integer_value(value); }
  bool number_unsigned(number_unsigned_t value) override { return integer_value(value); }
  bool string(string_t& value) override {
    store(value);
    return value_done();
  }
  bool start_object(std::size_t) override {
    if (depth_ == 0) top_level_object_ = true;
    ++depth_;
    target_ = Target::kNone;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    target_ = Target::kNone;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& name) override {
    target_ = Target::kNone;
    if (depth_ != 1) return true;
    if (name == account_claim_)
      target_ = Target::kAccount;
    else if (!principal_claim_.empty() && name == principal_claim_)
      target_ = Target::kPrincipal;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  enum class Target { kNone, kAccount, kPrincipal };

  template <typename Integer>
  bool integer_value(Integer value) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
    if (ec == std::errc()) store(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    return value_done();
  }
  void store(std::string_view value) {
    if (depth_ != 1) return;
    // Duplicate claims: the last one wins, as in most JSON parsers.
    if (target_ == Target::kAccount) found_account_ = account_.assign(value);
    if (target_ == Target::kPrincipal) principal_.assign(value);
  }
  bool value_done() {
    target_ = Target::kNone;
    return true;
  }

  std::string_view account_claim_;
  std::string_view principal_claim_;
  IdText& account_;
  IdText& principal_;
  int depth_ = 0;
  Target target_ = Target::kNone;
  bool found_account_ = false;
  bool top_level_object_ = false;
};

}  // namespace

JwtClaimReader::JwtClaimReader() { payload_.reserve(kMaxEncodedPayload / 4 * 3 + 3); }

bool JwtClaimReader::decode_payload(std::string_view encoded) {
  payload_.clear();
  while (!encoded.empty() && encoded.back() == '=') encoded.remove_suffix(1);  // tolerate padding
  if (encoded.empty() || encoded.size() > kMaxEncodedPayload || encoded.size() % 4 == 1) return false;
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : encoded) {
    const int v = base64url_value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      payload_.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
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

  ClaimCollector collector(account_claim, principal_claim, account, principal);
  bool parsed = false;
  try {  // nlohmann reports errors through parse_error(); guard against anything else anyway
    parsed = nlohmann::json::sax_parse(payload_.data(), payload_.data() + payload_.size(), &collector);
  } catch (...) {
    parsed = false;
  }
  if (!parsed || !collector.top_level_object()) {
    account.clear();
    principal.clear();
    return Result::kInvalid;
  }
  if (!collector.found_account()) {
    principal.clear();
    return Result::kMissingClaim;
  }
  return Result::kFound;
}

}  // namespace ipattrib::agent
