// JsonClaimScanner: validates one JSON text (RFC 8259, UTF-8) whose top level
// must be an object, and copies the string or integer values of two named
// top-level members into IdTexts — without allocating and without recursion,
// so a JWT payload costs no heap traffic on the packet path however deeply
// it nests. Replaces a SAX pass of nlohmann::json, whose lexer allocated
// about ten times per token (packet_path_alloc); its results are the same:
// nested members are ignored, floats, booleans, null, objects and arrays
// are not usable claim values, a repeated member's last value wins. Claim
// names longer than kMaxIdLength never match (no id rule needs one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/attribution/id_text.h"

namespace ipattrib::agent {

class JsonClaimScanner {
 public:
  // `principal_claim` may be empty (not looked for). `account` and
  // `principal` are written as members are found.
  JsonClaimScanner(std::string_view account_claim, std::string_view principal_claim, IdText& account,
                   IdText& principal);

  // True when `json` is valid JSON with an object at the top level.
  bool scan(std::string_view json);
  // Whether the last account member had a usable value.
  bool found_account() const { return found_account_; }

 private:
  enum class Target : std::uint8_t { kNone, kAccount, kPrincipal };

  // A string starting at the opening quote; decodes it into text_ when
  // `keep` (truncating past the IdText limit, which then refuses it).
  bool string(bool keep);
  bool number();
  bool literal(std::string_view word);
  bool scalar_value(Target target);
  void store(Target target, std::string_view value);
  bool utf8_sequence();
  bool hex4(std::uint32_t& out);
  void keep_byte(char c);
  void keep_bytes(const char* bytes, std::size_t n);
  std::string_view kept() const;
  void keep_code_point(std::uint32_t cp);
  void skip_whitespace();
  const char* skip_plain_string_bytes(const char* p) const;  // to the first '"', '\\', control or non-ASCII byte
  const char* skip_digits(const char* p) const;

  bool push(bool is_object);
  void pop() { --depth_; }
  bool top_is_object() const { return (open_[(depth_ - 1) / 64] >> ((depth_ - 1) % 64) & 1) != 0; }

  std::string_view account_claim_;
  std::string_view principal_claim_;
  IdText& account_;
  IdText& principal_;
  bool found_account_ = false;

  const char* p_ = nullptr;
  const char* end_ = nullptr;
  // Decoded string or number text; one byte longer than any acceptable id
  // so that longer ones are still refused.
  // Not zeroed: only text_size_ bytes of it are ever read (a scanner is
  // built per JWT, and clearing these 1.5 KB was most of its memset cost).
  char text_[kMaxIdLength + 1];
  std::size_t text_size_ = 0;
  // Set when the last kept string had nothing to decode: its text is then
  // these text_size_ bytes of the input, and text_ is unused.
  const char* in_place_ = nullptr;
  std::size_t depth_ = 0;
  // Per level: 1 object, 0 array (10240 levels > any payload we accept).
  // A level's bit is written by push() before top_is_object() reads it.
  std::uint64_t open_[160];
};

}  // namespace ipattrib::agent
