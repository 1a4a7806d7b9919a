// Runs the product head parser and the byte-at-a-time reference
// (reference_head_parser.h) over the same bytes and says where they differ:
// verdicts, sizes, every view (same bytes at the same address), counters and
// the body framing of accepted heads. Shared by the randomized unit test and
// the fuzz_request_head target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "agent/http/http_syntax.h"
#include "agent/http/message_framing.h"
#include "agent/http/request_head_parser.h"
#include "tests/unit/agent/http/reference_head_parser.h"

namespace ipattrib::agent::reference {

inline bool same_view(std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); }

inline std::string compare_heads(const RequestHead& got, const RequestHead& want) {
  if (!same_view(got.method, want.method)) return "method";
  if (!same_view(got.target, want.target)) return "target";
  if (!same_view(got.version, want.version)) return "version";
  if (got.headers.size() != want.headers.size()) return "header count";
  for (std::size_t i = 0; i < got.headers.size(); ++i) {
    if (!same_view(got.headers[i].name, want.headers[i].name)) return "header name " + std::to_string(i);
    if (!same_view(got.headers[i].value, want.headers[i].value)) return "header value " + std::to_string(i);
    const std::string_view name = got.headers[i].name;
    for (std::string_view other : {std::string_view("Content-Length"), std::string_view("transfer-encoding"),
                                   std::string_view("UPGRADE"), got.headers[i == 0 ? 0 : i - 1].name}) {
      if (equals_ignore_case(name, other) != same_ignoring_case(name, other)) return "equals_ignore_case";
    }
  }
  const BodyFraming a = request_body_framing(got);
  const BodyFraming b = body_framing(want);
  if (a.kind != b.kind || a.length != b.length || a.upgrade != b.upgrade) return "body framing";
  return {};
}

inline std::string compare_counters(const RequestHeadParser::Counters& a, const RequestHeadParser::Counters& b) {
  if (a.bad_request_line != b.bad_request_line || a.bad_header != b.bad_header ||
      a.too_many_headers != b.too_many_headers || a.head_too_large != b.head_too_large) {
    return "counters";
  }
  return {};
}

// Empty when the product agrees with the reference on `bytes` for parse(),
// parse_prefix() with `limit`, is_request_line() of the first line and
// request_start_shape().
inline std::string compare_head_parsers(std::string_view bytes, std::size_t max_headers, std::size_t max_head_bytes,
                                        std::size_t limit) {
  RequestHeadParser product(max_headers, max_head_bytes);
  HeadParser ref(max_headers, max_head_bytes);

  RequestHead got;
  RequestHead want;
  const auto got_result = product.parse(bytes, got);
  const auto want_result = ref.parse(bytes, want);
  if (got_result != want_result) return "parse result";
  if (got_result == RequestHeadParser::Result::kOk) {
    if (std::string diff = compare_heads(got, want); !diff.empty()) return "parse " + diff;
  }
  if (std::string diff = compare_counters(product.counters(), ref.counters()); !diff.empty()) return "parse " + diff;

  got = RequestHead{};
  want = RequestHead{};
  const auto got_prefix = product.parse_prefix(bytes, limit, got);
  const auto want_prefix = ref.parse_prefix(bytes, limit, want);
  if (got_prefix.kind != want_prefix.kind) return "parse_prefix kind";
  if (got_prefix.size != want_prefix.size) return "parse_prefix size";
  using Kind = RequestHeadParser::PrefixResult::Kind;
  if (got_prefix.kind == Kind::kComplete) {
    if (got_prefix.result != want_prefix.result) return "parse_prefix result";
    if (got_prefix.result == RequestHeadParser::Result::kOk) {
      if (std::string diff = compare_heads(got, want); !diff.empty()) return "parse_prefix " + diff;
    }
  }
  if (std::string diff = compare_counters(product.counters(), ref.counters()); !diff.empty()) {
    return "parse_prefix " + diff;
  }

  const std::size_t lf = bytes.find('\n');
  const std::string_view first_line = bytes.substr(0, lf);
  if (RequestHeadParser::is_request_line(first_line) != is_request_line(first_line)) return "is_request_line";
  const std::span<const std::uint8_t> span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (http_syntax::request_start_shape(span) != request_start_shape(bytes)) return "request_start_shape";
  return {};
}

}  // namespace ipattrib::agent::reference
