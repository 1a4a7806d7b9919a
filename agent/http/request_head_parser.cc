#include "agent/http/request_head_parser.h"

#include <cstring>

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

// Eight bytes at a time (SWAR): targets and header values are most of a
// head's bytes (2 KB cookies are common), and a byte-at-a-time check of
// them was the largest part of parsing.
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighBits = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Non-zero when some byte of x is below n (n <= 128); exact as a yes/no.
std::uint64_t has_byte_below(std::uint64_t x, std::uint8_t n) { return (x - kOnes * n) & ~x & kHighBits; }
std::uint64_t has_byte_equal(std::uint64_t x, std::uint8_t c) { return has_byte_below(x ^ (kOnes * c), 1); }

// take_while(s, is_target_char), skipping whole words of target bytes.
std::string_view take_target_chars(std::string_view& s) {
  std::size_t n = 0;
  while (n + 8 <= s.size()) {
    const std::uint64_t word = load8(s.data() + n);
    if ((has_byte_below(word, 0x21) | has_byte_equal(word, 0x7f)) != 0) break;
    n += 8;
  }
  while (n < s.size() && is_target_char(byte_at(s, n))) ++n;
  std::string_view taken = s.substr(0, n);
  s.remove_prefix(n);
  return taken;
}

bool is_field_value_char(std::uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool all_field_value_chars(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t word = load8(s.data() + i);
    if ((has_byte_below(word, 0x20) | has_byte_equal(word, 0x7f)) == 0) continue;
    for (std::size_t j = i; j < i + 8; ++j) {  // a tab, or a byte to reject
      if (!is_field_value_char(byte_at(s, j))) return false;
    }
  }
  for (; i < s.size(); ++i) {
    if (!is_field_value_char(byte_at(s, i))) return false;
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
  if (!take_line(rest, line) || !parse_request_line(line, out)) return Result::kBadRequestLine;
  while (true) {
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
  if (!take_line(rest, line)) return {Kind::kIncomplete, Result::kOk, 0};
  if (!parse_request_line(line, out)) return {Kind::kBadRequestLine, Result::kBadRequestLine, window.size() - rest.size()};
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
