// RequestHeadParser: turns one complete HTTP/1.0/1.1 request head (request
// line, header lines, empty line) into a RequestHead of views over those
// bytes. Header storage is reserved once per parser, so parsing never
// allocates; a RequestHead is valid until the next parse() on the same parser.
//
// Accepted leniently (harmless, seen in captures): LF-only line ends, runs of
// spaces between request-line parts, and versions "HTTP/1." followed by at
// most one digit (a truncated "HTTP/1." is reported as sent). Rejected (the
// whole head is counted and not delivered, as RFC 9112 servers answer 400):
// obs-fold continuation lines, whitespace before ':', header names that are
// not tokens, control bytes, more than max_headers headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/http/request_head.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class RequestHeadParser {
 public:
  enum class Result : std::uint8_t { kOk, kBadRequestLine, kBadHeader, kTooManyHeaders, kTooLarge };

  struct Counters {
    std::uint64_t bad_request_line = 0;
    std::uint64_t bad_header = 0;
    std::uint64_t too_many_headers = 0;
    std::uint64_t head_too_large = 0;
  };

  explicit RequestHeadParser(std::size_t max_headers = 100, std::size_t max_head_bytes = 16384);

  // `head` ends with its empty line. On kOk fills `out`; otherwise counts the
  // reason and leaves `out` unspecified.
  Result parse(std::string_view head, RequestHead& out);

  // Would `line` (without its line end) pass as a request line? Lets the
  // stream parser reject a non-HTTP stream after its first line instead of
  // buffering up to max_head_bytes.
  static bool is_request_line(std::string_view line);

  // The stream parser's one pass over a head at the start of `bytes`: finds
  // its end (an empty line ending within `limit` bytes) while parsing its
  // lines, so each line is searched for and parsed once.
  struct PrefixResult {
    enum class Kind : std::uint8_t {
      kBadRequestLine,  // the first line is complete and no request line (not counted)
      kIncomplete,      // no head end within `limit` yet (nothing counted)
      kComplete,        // `result` is parse() of the head's bytes (counted)
    };
    Kind kind;
    Result result;
    std::size_t size;  // kBadRequestLine: through the first LF; kComplete: the head's bytes
  };
  PrefixResult parse_prefix(std::string_view bytes, std::size_t limit, RequestHead& out);

  const Counters& counters() const { return counters_; }
  // http.bad_request_line, http.bad_header, http.too_many_headers, http.head_too_large
  void report(StatsSink& sink) const;

 private:
  Result parse_lines(std::string_view head, RequestHead& out);
  Result count(Result result);

  std::size_t max_headers_;
  std::size_t max_head_bytes_;
  std::vector<HttpHeader> headers_;
  Counters counters_;
};

}  // namespace ipattrib::agent
