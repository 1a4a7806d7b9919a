// Differential fuzz target: RequestHeadParser (parse, parse_prefix,
// is_request_line) and request_body_framing against the byte-at-a-time
// reference in tests/unit/agent/http/reference_head_parser.h. Input layout:
//   byte 0: max_headers - 1 (low 4 bits); bit 4 small max_head_bytes (128)
//   byte 1: parse_prefix limit as a fraction (n/255) of the rest's size
//   rest:   the bytes handed to the parsers
// Any difference in a verdict, a view, a counter or a body framing aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/unit/agent/http/head_parser_differential.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_headers = 1 + (data[0] & 0x0f);
  const std::size_t max_head_bytes = (data[0] & 0x10) != 0 ? 128 : 16384;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t limit = data[1] == 0xff ? bytes.size() + 1 : bytes.size() * data[1] / 255;
  const std::string diff =
      ipattrib::agent::reference::compare_head_parsers(bytes, max_headers, max_head_bytes, limit);
  if (!diff.empty()) {
    std::fprintf(stderr, "fuzz_request_head: product and reference differ: %s\n", diff.c_str());
    std::abort();
  }
  return 0;
}
