// A byte-at-a-time reference of RequestHeadParser (parse, parse_prefix,
// is_request_line), request_body_framing and http_syntax::request_start_shape, written for clarity rather than
// speed. The product parsers scan many bytes at a time and take fast paths;
// the differential test and fuzz_request_head compare them with this, so any
// divergence in a verdict, a view or a counter shows up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/http/http_syntax.h"
#include "agent/http/message_framing.h"
#include "agent/http/request_head.h"
#include "agent/http/request_head_parser.h"

namespace ipattrib::agent::reference {

inline bool is_token_char(std::uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
inline bool is_target_char(std::uint8_t c) { return c > 0x20 && c != 0x7f; }
inline bool is_field_value_char(std::uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }
inline bool is_space(char c) { return c == ' ' || c == '\t'; }

inline char fold_case(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_case(a[i]) != fold_case(b[i])) return false;
  }
  return true;
}

// The line before the first LF of `rest` (one trailing CR dropped); false
// when there is no LF.
inline bool take_line(std::string_view& rest, std::string_view& line) {
  const std::size_t lf = rest.find('\n');
  if (lf == std::string_view::npos) return false;
  line = rest.substr(0, lf);
  rest.remove_prefix(lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

template <typename Pred>
std::string_view take_while(std::string_view& s, Pred pred) {
  std::size_t n = 0;
  while (n < s.size() && pred(static_cast<std::uint8_t>(s[n]))) ++n;
  const std::string_view taken = s.substr(0, n);
  s.remove_prefix(n);
  return taken;
}

inline bool skip_spaces(std::string_view& s) {
  const std::size_t before = s.size();
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s.size() != before;
}

inline bool is_accepted_version(std::string_view v) {
  if (v.substr(0, 7) != "HTTP/1.") return false;
  return v.size() == 7 || (v.size() == 8 && v.back() >= '0' && v.back() <= '9');
}

inline bool parse_request_line(std::string_view line, RequestHead& out) {
  out.method = take_while(line, is_token_char);
  if (out.method.empty() || !skip_spaces(line)) return false;
  out.target = take_while(line, is_target_char);
  if (out.target.empty() || !skip_spaces(line)) return false;
  out.version = take_while(line, is_target_char);
  return is_accepted_version(out.version) && trim(line).empty();
}

inline bool parse_header_line(std::string_view line, HttpHeader& out) {
  out.name = take_while(line, is_token_char);
  if (out.name.empty() || line.empty() || line.front() != ':') return false;
  line.remove_prefix(1);
  for (char c : line) {
    if (!is_field_value_char(static_cast<std::uint8_t>(c))) return false;
  }
  out.value = trim(line);
  return true;
}

inline bool is_request_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  RequestHead unused;
  return parse_request_line(line, unused);
}

// http_syntax::request_start_shape: "TOKEN SP" with a token of at most
// kMaxMethodLength bytes.
inline http_syntax::Shape request_start_shape(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == ' ') return i == 0 ? http_syntax::Shape::kNo : http_syntax::Shape::kYes;
    if (!is_token_char(static_cast<std::uint8_t>(bytes[i])) || i >= http_syntax::kMaxMethodLength) {
      return http_syntax::Shape::kNo;
    }
  }
  return http_syntax::Shape::kNeedMore;
}

class HeadParser {
 public:
  using Result = RequestHeadParser::Result;
  using PrefixResult = RequestHeadParser::PrefixResult;
  using Counters = RequestHeadParser::Counters;

  HeadParser(std::size_t max_headers, std::size_t max_head_bytes)
      : max_headers_(max_headers), max_head_bytes_(max_head_bytes) {}

  Result parse(std::string_view head, RequestHead& out) {
    if (head.size() > max_head_bytes_) return count(Result::kTooLarge);
    return count(parse_lines(head, out));
  }

  PrefixResult parse_prefix(std::string_view bytes, std::size_t limit, RequestHead& out) {
    using Kind = PrefixResult::Kind;
    const std::string_view window = bytes.substr(0, limit);
    std::string_view rest = window;
    std::string_view line;
    if (!take_line(rest, line)) return {Kind::kIncomplete, Result::kOk, 0};
    if (!parse_request_line(line, out)) {
      return {Kind::kBadRequestLine, Result::kBadRequestLine, window.size() - rest.size()};
    }
    headers_.clear();
    Result result = Result::kOk;
    while (true) {
      if (rest.substr(0, 1) == "\n") {
        rest.remove_prefix(1);
        break;
      }
      if (rest.substr(0, 2) == "\r\n") {
        rest.remove_prefix(2);
        break;
      }
      if (!take_line(rest, line)) return {Kind::kIncomplete, Result::kOk, 0};
      if (result != Result::kOk) continue;
      if (line.empty() || is_space(line.front())) {
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
    if (result == Result::kOk) out.headers = headers_;
    return {Kind::kComplete, count(result), size};
  }

  const Counters& counters() const { return counters_; }

 private:
  Result parse_lines(std::string_view head, RequestHead& out) {
    headers_.clear();
    std::string_view rest = head;
    std::string_view line;
    if (!take_line(rest, line) || !parse_request_line(line, out)) return Result::kBadRequestLine;
    while (true) {
      if (!take_line(rest, line)) return Result::kBadHeader;
      if (line.empty()) break;
      if (is_space(line.front())) return Result::kBadHeader;
      if (headers_.size() == max_headers_) return Result::kTooManyHeaders;
      HttpHeader header;
      if (!parse_header_line(line, header)) return Result::kBadHeader;
      headers_.push_back(header);
    }
    out.headers = headers_;
    return Result::kOk;
  }

  Result count(Result result) {
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

  std::size_t max_headers_;
  std::size_t max_head_bytes_;
  std::vector<HttpHeader> headers_;
  Counters counters_;
};

// request_body_framing as three separate looks at the headers.
inline BodyFraming body_framing(const RequestHead& head) {
  BodyFraming framing;
  if (head.method == "CONNECT") {
    framing.kind = BodyFraming::Kind::kTunnel;
    return framing;
  }
  const HttpHeader* last_te = nullptr;
  for (const HttpHeader& h : head.headers) {
    if (same_ignoring_case(h.name, "Upgrade")) framing.upgrade = true;
    if (same_ignoring_case(h.name, "Transfer-Encoding")) last_te = &h;
  }
  if (last_te != nullptr) {
    std::string_view coding = last_te->value;
    const std::size_t comma = coding.rfind(',');
    if (comma != std::string_view::npos) coding.remove_prefix(comma + 1);
    const bool chunked = same_ignoring_case(trim(coding), "chunked");
    framing.kind = chunked ? BodyFraming::Kind::kChunked : BodyFraming::Kind::kInvalid;
    return framing;
  }
  bool seen = false;
  std::optional<std::uint64_t> length;
  for (const HttpHeader& h : head.headers) {
    if (!same_ignoring_case(h.name, "Content-Length")) continue;
    seen = true;
    std::string_view list = h.value;
    while (true) {
      const std::size_t comma = list.find(',');
      const std::string_view text = trim(list.substr(0, comma));
      std::optional<std::uint64_t> value;
      if (!text.empty() && text.size() <= 18) {
        std::uint64_t v = 0;
        bool digits = true;
        for (char c : text) {
          if (c < '0' || c > '9') digits = false;
          v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (digits) value = v;
      }
      if (!value || (length && *length != *value)) {
        framing.kind = BodyFraming::Kind::kInvalid;
        return framing;
      }
      length = value;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (seen && *length > 0) {
    framing.kind = BodyFraming::Kind::kLength;
    framing.length = *length;
  }
  return framing;
}

}  // namespace ipattrib::agent::reference
