#include "agent/http/request_head_parser.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "agent/http/http_syntax.h"

namespace ipattrib::agent {
namespace {

using http_syntax::is_target_char;
using http_syntax::is_token_char;

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// Splits off the next line (without its CRLF / LF); false when `rest` holds
// no LF. One search per line: this runs for every header of every request.
bool take_line(std::string_view& rest, std::string_view& line) {
  const void* lf = std::memchr(rest.data(), '\n', rest.size());
  if (lf == nullptr) return false;
  const auto length = static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data());
  line = rest.substr(0, length);
  rest.remove_prefix(length + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the leading run of bytes satisfying `pred`.
template <typename Pred>
std::string_view take_while(std::string_view& s, Pred pred) {
  std::size_t n = 0;
  while (n < s.size() && pred(byte_at(s, n))) ++n;
  std::string_view taken = s.substr(0, n);
  s.remove_prefix(n);
  return taken;
}

bool skip_spaces(std::string_view& s) {
  const std::size_t before = s.size();
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s.size() != before;
}

// "HTTP/1.0", "HTTP/1.1", or the truncated "HTTP/1." / "HTTP/1.<digit>".
bool is_accepted_version(std::string_view v) {
  constexpr std::string_view kPrefix = "HTTP/1.";
  if (v.substr(0, kPrefix.size()) != kPrefix) return false;
  if (v.size() == kPrefix.size()) return true;
  return v.size() == kPrefix.size() + 1 && v.back() >= '0' && v.back() <= '9';
}

// The first byte in [p, end) that is at most kMaxStop or DEL (0x7f), or end.
// With kMaxStop 0x1f that is every control byte (tab, CR and LF included),
// with 0x20 every byte that cannot be in a request target. Targets and header
// values are most of a head's bytes, so this looks at 16 bytes at a time
// (SSE2, baseline on x86-64; 8 at a time elsewhere).
template <std::uint8_t kMaxStop>
const char* find_stop_byte(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i max_stop = _mm_set1_epi8(static_cast<char>(kMaxStop));
  const __m128i del = _mm_set1_epi8(0x7f);
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(bytes, max_stop), bytes);  // unsigned byte <= kMaxStop
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(bytes, del)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
  // Non-zero when some byte of x is below n (n <= 128); exact as a yes/no.
  const auto has_byte_below = [](std::uint64_t x, std::uint8_t n) { return (x - kOnes * n) & ~x & kHighBits; };
  for (; end - p >= 8; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    if ((has_byte_below(word, kMaxStop + 1) | has_byte_below(word ^ (kOnes * 0x7f), 1)) != 0) break;
  }
#endif
  while (p != end && static_cast<std::uint8_t>(*p) > kMaxStop && *p != 0x7f) ++p;
  return p;
}

bool is_token_byte(char c) { return is_token_char(static_cast<std::uint8_t>(c)); }

// The first byte in [p, end) that is not a token character (RFC 9110 tchar),
// or end. Header names are nearly always letters, digits and '-': where SSE2
// is there, those are skipped 16 bytes at a time, and the byte-by-byte table
// check goes on from the first other byte (usually the ':' that ends the
// name). Methods are too short for this to pay.
[[gnu::always_inline]] inline const char* find_non_token_byte(const char* p, const char* end) {
#if defined(__SSE2__)
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compares: obs-text (0x80-0xff) is negative, so never in a range.
    const __m128i lower = _mm_or_si128(bytes, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                         _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(bytes, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(bytes, _mm_set1_epi8('9' + 1)));
    const __m128i dash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('-'));
    const int other = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), dash)) ^ 0xffff;
    if (other != 0) {
      p += __builtin_ctz(static_cast<unsigned>(other));
      break;
    }
  }
#endif
  while (p != end && is_token_byte(*p)) ++p;
  return p;
}

// take_while(s, is_target_char).
std::string_view take_target_chars(std::string_view& s) {
  const auto n = static_cast<std::size_t>(find_stop_byte<0x20>(s.data(), s.data() + s.size()) - s.data());
  std::string_view taken = s.substr(0, n);
  s.remove_prefix(n);
  return taken;
}

bool all_field_value_chars(std::string_view s) {
  const char* const end = s.data() + s.size();
  for (const char* p = find_stop_byte<0x1f>(s.data(), end); p != end; p = find_stop_byte<0x1f>(p + 1, end)) {
    if (*p != '\t') return false;
  }
  return true;
}

bool parse_request_line(std::string_view line, RequestHead& out) {
  out.method = take_while(line, is_token_char);
  if (out.method.empty() || !skip_spaces(line)) return false;
  out.target = take_target_chars(line);
  if (out.target.empty() || !skip_spaces(line)) return false;
  out.version = take_while(line, is_target_char);
  return is_accepted_version(out.version) && trim(line).empty();
}

bool parse_header_line(std::string_view line, HttpHeader& out) {
  out.name = take_while(line, is_token_char);
  if (out.name.empty() || line.empty() || line.front() != ':') return false;
  line.remove_prefix(1);
  if (!all_field_value_chars(line)) return false;
  out.value = trim(line);
  return true;
}

// Past a line end ("\n" or "\r\n") at p, or nullptr when there is none.
const char* after_line_end(const char* p, const char* end) {
  if (p != end && *p == '\n') return p + 1;
  if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') return p + 2;
  return nullptr;
}

// The common request line in one pass: "TOKEN SP+ target SP+ HTTP/1.[digit]"
// then optional spaces/tabs and a line end, all within `rest`. Fills `out`
// and removes the line from `rest`; false (nothing changed) for anything
// else, which take_line + parse_request_line then decide as always.
bool take_plain_request_line(std::string_view& rest, RequestHead& out) {
  const char* const begin = rest.data();
  const char* const end = begin + rest.size();
  const char* p = begin;
  while (p != end && is_token_byte(*p)) ++p;
  if (p == begin || p == end || *p != ' ') return false;
  const char* const method_end = p;
  while (p != end && *p == ' ') ++p;
  const char* const target = p;
  p = find_stop_byte<0x20>(p, end);
  if (p == target || p == end || *p != ' ') return false;
  const char* const target_end = p;
  while (p != end && *p == ' ') ++p;
  constexpr std::string_view kVersion = "HTTP/1.";
  if (static_cast<std::size_t>(end - p) < kVersion.size() || std::memcmp(p, kVersion.data(), kVersion.size()) != 0) {
    return false;
  }
  const char* const version = p;
  p += kVersion.size();
  if (p != end && *p >= '0' && *p <= '9') ++p;
  const char* const version_end = p;
  while (p != end && is_space(*p)) ++p;
  const char* const next = after_line_end(p, end);
  if (next == nullptr) return false;
  out.method = std::string_view(begin, static_cast<std::size_t>(method_end - begin));
  out.target = std::string_view(target, static_cast<std::size_t>(target_end - target));
  out.version = std::string_view(version, static_cast<std::size_t>(version_end - version));
  rest.remove_prefix(static_cast<std::size_t>(next - begin));
  return true;
}

// The common header line in one pass: a token name, ':', field-value bytes
// and a line end, all within `rest`: finds the line end while checking the
// value's bytes, and trims without a second look. Fills `out` and removes the
// line from `rest`; false (nothing changed) for anything else, which
// take_line + parse_header_line then decide as always.
[[gnu::always_inline]] inline bool take_plain_header_line(std::string_view& rest, HttpHeader& out) {
  const char* const begin = rest.data();
  const char* const end = begin + rest.size();
  const char* const p = find_non_token_byte(begin, end);
  if (p == begin || p == end || *p != ':') return false;
  const char* const name_end = p;
  const char* value = p + 1;
  while (value != end && is_space(*value)) ++value;
  const char* stop = find_stop_byte<0x1f>(value, end);
  while (stop != end && *stop == '\t') stop = find_stop_byte<0x1f>(stop + 1, end);
  if (stop == end) return false;
  const char* const next = after_line_end(stop, end);
  if (next == nullptr) return false;  // a control byte in the value, or a CR at the end of `rest`
  const char* value_end = stop;
  while (value_end != value && is_space(value_end[-1])) --value_end;
  out.name = std::string_view(begin, static_cast<std::size_t>(name_end - begin));
  out.value = std::string_view(value, static_cast<std::size_t>(value_end - value));
  rest.remove_prefix(static_cast<std::size_t>(next - begin));
  return true;
}

}  // namespace

RequestHeadParser::RequestHeadParser(std::size_t max_headers, std::size_t max_head_bytes)
    : max_headers_(max_headers), max_head_bytes_(max_head_bytes) {
  headers_.reserve(max_headers_);
}

bool RequestHeadParser::is_request_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  RequestHead unused;
  return parse_request_line(line, unused);
}

RequestHeadParser::Result RequestHeadParser::parse(std::string_view head, RequestHead& out) {
  if (head.size() > max_head_bytes_) return count(Result::kTooLarge);
  return count(parse_lines(head, out));
}

RequestHeadParser::Result RequestHeadParser::parse_lines(std::string_view head, RequestHead& out) {
  headers_.clear();
  std::string_view rest = head;
  std::string_view line;
  if (!take_plain_request_line(rest, out) && (!take_line(rest, line) || !parse_request_line(line, out))) {
    return Result::kBadRequestLine;
  }
  while (true) {
    if (headers_.size() < max_headers_) {
      HttpHeader header;
      if (take_plain_header_line(rest, header)) {
        headers_.push_back(header);
        continue;
      }
    }
    if (!take_line(rest, line)) return Result::kBadHeader;  // no empty line
    if (line.empty()) break;
    if (is_space(line.front())) return Result::kBadHeader;  // obs-fold
    if (headers_.size() == max_headers_) return Result::kTooManyHeaders;
    HttpHeader header;
    if (!parse_header_line(line, header)) return Result::kBadHeader;
    headers_.push_back(header);
  }
  out.headers = std::span<const HttpHeader>(headers_.data(), headers_.size());
  return Result::kOk;
}

RequestHeadParser::PrefixResult RequestHeadParser::parse_prefix(std::string_view bytes, std::size_t limit,
                                                                RequestHead& out) {
  using Kind = PrefixResult::Kind;
  const std::string_view window = bytes.substr(0, limit);
  std::string_view rest = window;
  std::string_view line;
  if (!take_plain_request_line(rest, out)) {
    if (!take_line(rest, line)) return {Kind::kIncomplete, Result::kOk, 0};
    if (!parse_request_line(line, out)) {
      return {Kind::kBadRequestLine, Result::kBadRequestLine, window.size() - rest.size()};
    }
  }
  headers_.clear();
  Result result = Result::kOk;  // the first error in line order, as parse_lines finds it
  while (true) {
    // The empty line: "\n" or "\r\n" right after the previous LF.
    if (!rest.empty() && rest.front() == '\n') {
      rest.remove_prefix(1);
      break;
    }
    if (rest.size() >= 2 && rest[0] == '\r' && rest[1] == '\n') {
      rest.remove_prefix(2);
      break;
    }
    if (result == Result::kOk && headers_.size() < max_headers_) {
      HttpHeader header;
      if (take_plain_header_line(rest, header)) {
        headers_.push_back(header);
        continue;
      }
    }
    if (!take_line(rest, line)) return {Kind::kIncomplete, Result::kOk, 0};
    if (result != Result::kOk) continue;  // only looking for the end now
    if (line.empty() || is_space(line.front())) {  // obs-fold (an empty line ended the head above)
      result = Result::kBadHeader;
    } else if (headers_.size() == max_headers_) {
      result = Result::kTooManyHeaders;
    } else {
      HttpHeader header;
      if (parse_header_line(line, header)) {
        headers_.push_back(header);
      } else {
        result = Result::kBadHeader;
      }
    }
  }
  const std::size_t size = window.size() - rest.size();
  if (size > max_head_bytes_) result = Result::kTooLarge;
  if (result == Result::kOk) out.headers = std::span<const HttpHeader>(headers_.data(), headers_.size());
  return {Kind::kComplete, count(result), size};
}

RequestHeadParser::Result RequestHeadParser::count(Result result) {
  switch (result) {
    case Result::kOk:
      break;
    case Result::kBadRequestLine:
      ++counters_.bad_request_line;
      break;
    case Result::kBadHeader:
      ++counters_.bad_header;
      break;
    case Result::kTooManyHeaders:
      ++counters_.too_many_headers;
      break;
    case Result::kTooLarge:
      ++counters_.head_too_large;
      break;
  }
  return result;
}

void RequestHeadParser::report(StatsSink& sink) const {
  sink.counter("http.bad_request_line", counters_.bad_request_line);
  sink.counter("http.bad_header", counters_.bad_header);
  sink.counter("http.too_many_headers", counters_.too_many_headers);
  sink.counter("http.head_too_large", counters_.head_too_large);
}

}  // namespace ipattrib::agent
