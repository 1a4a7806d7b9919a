#include "agent/attribution/json_claim_scanner.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ipattrib::agent {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Bytes a JSON string holds as they are: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> make_plain_string_bytes() {
  std::array<bool, 256> table{};
  for (int b = 0x20; b < 0x80; ++b) table[b] = b != '"' && b != '\\';
  return table;
}

constexpr std::array<bool, 256> kPlainStringByte = make_plain_string_bytes();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Does the integer text (optional '-', digits, no leading zero) fit in
// int64 (negative) or uint64 (otherwise)? Else JSON parsers make it a float.
bool fits_integer(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  const std::string_view limit = negative ? "9223372036854775808" : "18446744073709551615";
  return digits.size() < limit.size() || (digits.size() == limit.size() && digits <= limit);
}

}  // namespace

JsonClaimScanner::JsonClaimScanner(std::string_view account_claim, std::string_view principal_claim,
                                   IdText& account, IdText& principal)
    : account_claim_(account_claim), principal_claim_(principal_claim), account_(account), principal_(principal) {}

// The byte loops below run on locals: p_ and end_ are members, and a char
// load may alias them, so the compiler would reload and store them per byte.
void JsonClaimScanner::skip_whitespace() {
  const char* p = p_;
  const char* const end = end_;
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  p_ = p;
}

// Most of a payload is string bytes: where SSE2 is there (baseline on
// x86-64) they are looked at 16 at a time, the table check goes on from the
// first byte that stops the run.
const char* JsonClaimScanner::skip_plain_string_bytes(const char* p) const {
  const char* const end = end_;
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes 0x80-0xff are negative, so below 0x20 like control bytes.
    const __m128i stop = _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
                                      _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                   _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
    if (const int mask = _mm_movemask_epi8(stop); mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
#endif
  while (p < end && kPlainStringByte[static_cast<std::uint8_t>(*p)]) ++p;
  return p;
}

const char* JsonClaimScanner::skip_digits(const char* p) const {
  const char* const end = end_;
  while (p < end && is_digit(*p)) ++p;
  return p;
}

bool JsonClaimScanner::push(bool is_object) {
  if (depth_ >= sizeof(open_) * 8) return false;
  std::uint64_t& word = open_[depth_ / 64];
  const std::uint64_t bit = std::uint64_t{1} << (depth_ % 64);
  word = is_object ? (word | bit) : (word & ~bit);
  ++depth_;
  return true;
}

bool JsonClaimScanner::scan(std::string_view json) {
  p_ = json.data();
  end_ = json.data() + json.size();
  depth_ = 0;
  found_account_ = false;
  if (json.size() >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;  // a BOM, as nlohmann allows
  skip_whitespace();
  if (p_ == end_ || *p_ != '{') return false;

  enum class Expect { kValue, kValueOrClose, kKey, kKeyOrClose, kAfterValue };
  Expect expect = Expect::kValue;
  Target target = Target::kNone;  // the top-level member whose value comes next
  while (true) {
    skip_whitespace();
    if (expect == Expect::kAfterValue && depth_ == 0) return p_ == end_;
    if (p_ == end_) return false;
    const char c = *p_;
    switch (expect) {
      case Expect::kValueOrClose:
        if (c == ']') {
          ++p_;
          pop();
          expect = Expect::kAfterValue;
          break;
        }
        [[fallthrough]];
      case Expect::kValue:
        if (c == '{' || c == '[') {
          ++p_;
          if (!push(c == '{')) return false;
          expect = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
        } else {
          if (!scalar_value(target)) return false;
          expect = Expect::kAfterValue;
        }
        target = Target::kNone;
        break;
      case Expect::kKeyOrClose:
        if (c == '}') {
          ++p_;
          pop();
          expect = Expect::kAfterValue;
          break;
        }
        [[fallthrough]];
      case Expect::kKey: {
        if (c != '"' || !string(depth_ == 1)) return false;
        if (depth_ == 1 && text_size_ <= kMaxIdLength) {
          const std::string_view name = kept();
          if (name == account_claim_) {
            target = Target::kAccount;
          } else if (!principal_claim_.empty() && name == principal_claim_) {
            target = Target::kPrincipal;
          }
        }
        skip_whitespace();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        expect = Expect::kValue;
        break;
      }
      case Expect::kAfterValue:
        ++p_;
        if (c == ',') {
          expect = top_is_object() ? Expect::kKey : Expect::kValue;
        } else if ((c == '}' && top_is_object()) || (c == ']' && !top_is_object())) {
          pop();
        } else {
          return false;
        }
        break;
    }
  }
}

bool JsonClaimScanner::scalar_value(Target target) {
  const bool keep = target != Target::kNone;
  switch (*p_) {
    case '"':
      if (!string(keep)) return false;
      break;
    case 't': return literal("true");
    case 'f': return literal("false");
    case 'n': return literal("null");
    default: {
      const char* start = p_;
      if (!number()) return false;
      if (!keep) return true;  // (most numbers: "iat", "exp")
      const std::string_view text(start, static_cast<std::size_t>(p_ - start));
      const bool integer = text.find_first_of(".eE") == std::string_view::npos;
      if (!integer || !fits_integer(text)) return true;  // floats are no claim values
      store(target, text == "-0" ? std::string_view("0") : text);
      return true;
    }
  }
  if (keep) store(target, kept());  // kMaxIdLength + 1 bytes when longer: refused
  return true;
}

void JsonClaimScanner::store(Target target, std::string_view value) {
  if (depth_ != 1) return;
  if (target == Target::kAccount) found_account_ = account_.assign(value);
  if (target == Target::kPrincipal) principal_.assign(value);
}

bool JsonClaimScanner::literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
    return false;
  }
  p_ += word.size();
  return true;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool JsonClaimScanner::number() {
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ == end_ || !is_digit(*p_)) return false;
  if (*p_ == '0') {
    ++p_;
  } else {
    p_ = skip_digits(p_);
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    p_ = skip_digits(p_);
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    p_ = skip_digits(p_);
  }
  return true;
}

void JsonClaimScanner::keep_byte(char c) {
  if (text_size_ < sizeof(text_)) text_[text_size_] = c;
  ++text_size_;  // counts on past the buffer: a longer text is refused, never cut
}

void JsonClaimScanner::keep_bytes(const char* bytes, std::size_t n) {
  if (text_size_ < sizeof(text_)) std::memcpy(text_ + text_size_, bytes, std::min(n, sizeof(text_) - text_size_));
  text_size_ += n;  // as keep_byte: counts on past the buffer
}

std::string_view JsonClaimScanner::kept() const {
  return std::string_view(in_place_ != nullptr ? in_place_ : text_, std::min(text_size_, sizeof(text_)));
}

void JsonClaimScanner::keep_code_point(std::uint32_t cp) {
  if (cp < 0x80) {
    keep_byte(static_cast<char>(cp));
  } else if (cp < 0x800) {
    keep_byte(static_cast<char>(0xC0 | cp >> 6));
    keep_byte(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    keep_byte(static_cast<char>(0xE0 | cp >> 12));
    keep_byte(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    keep_byte(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    keep_byte(static_cast<char>(0xF0 | cp >> 18));
    keep_byte(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    keep_byte(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    keep_byte(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool JsonClaimScanner::hex4(std::uint32_t& out) {
  if (end_ - p_ < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const int v = hex_value(p_[i]);
    if (v < 0) return false;
    out = out << 4 | static_cast<std::uint32_t>(v);
  }
  p_ += 4;
  return true;
}

// One well-formed UTF-8 sequence of two to four bytes (RFC 3629 table 3-7:
// no overlong forms, no surrogates, nothing past U+10FFFF).
bool JsonClaimScanner::utf8_sequence() {
  const auto b0 = static_cast<std::uint8_t>(*p_);
  int continuation = 0;
  std::uint8_t low = 0x80;
  std::uint8_t high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    continuation = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    continuation = 2;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    continuation = 3;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return false;
  }
  if (end_ - p_ <= continuation) return false;
  for (int i = 1; i <= continuation; ++i) {
    const auto b = static_cast<std::uint8_t>(p_[i]);
    if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xBF)) return false;
  }
  p_ += continuation + 1;
  return true;
}

bool JsonClaimScanner::string(bool keep) {
  ++p_;  // the opening quote
  text_size_ = 0;
  in_place_ = nullptr;
  const char* first = p_;
  p_ = skip_plain_string_bytes(first);
  if (p_ < end_ && *p_ == '"') {  // no escapes, no UTF-8 (most keys and values): kept where it is, not copied
    if (keep) {
      in_place_ = first;
      text_size_ = static_cast<std::size_t>(p_ - first);
    }
    ++p_;
    return true;
  }
  p_ = first;
  while (p_ < end_) {
    // Runs of plain printable ASCII (most of a JWT payload) in one go.
    const char* run = p_;
    p_ = skip_plain_string_bytes(run);
    if (keep && p_ != run) keep_bytes(run, static_cast<std::size_t>(p_ - run));
    if (p_ == end_) break;
    const char c = *p_;
    if (c == '"') {
      ++p_;
      return true;
    }
    if (static_cast<std::uint8_t>(c) < 0x20) return false;
    if (static_cast<std::uint8_t>(c) >= 0x80) {
      const char* start = p_;
      if (!utf8_sequence()) return false;
      if (keep) {
        for (const char* q = start; q < p_; ++q) keep_byte(*q);
      }
      continue;
    }
    // Left: a backslash escape.
    if (end_ - p_ < 2) return false;
    const char escape = p_[1];
    p_ += 2;
    char decoded = 0;
    switch (escape) {
      case '"': decoded = '"'; break;
      case '\\': decoded = '\\'; break;
      case '/': decoded = '/'; break;
      case 'b': decoded = '\b'; break;
      case 'f': decoded = '\f'; break;
      case 'n': decoded = '\n'; break;
      case 'r': decoded = '\r'; break;
      case 't': decoded = '\t'; break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
        if (cp >= 0xD800 && cp <= 0xDBFF) {              // must pair with a low one
          std::uint32_t low = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
          p_ += 2;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (keep) keep_code_point(cp);
        continue;
      }
      default: return false;
    }
    if (keep) keep_byte(decoded);
  }
  return false;  // no closing quote
}

}  // namespace ipattrib::agent
