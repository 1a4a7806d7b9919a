// Fuzz target: ProxyProtocolParser on arbitrary bytes. Besides memory safety
// it checks that a decision never depends on where the bytes end: every
// prefix of a complete header needs more, every longer input gives the same
// header, and a prefix of an invalid input is never complete.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "agent/http/proxy_protocol_parser.h"

namespace {

using ipattrib::agent::ProxyParseResult;
using ipattrib::agent::ProxyProtocolParser;
using Kind = ProxyParseResult::Kind;

void require(bool condition) {
  if (!condition) std::abort();
}

ProxyParseResult parse_once(std::span<const std::uint8_t> data) {
  ProxyProtocolParser parser;
  return parser.parse(data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const ProxyParseResult whole = parse_once(input);
  require(whole.consumed <= size);
  if (whole.kind == Kind::kComplete) require(whole.consumed > 0);
  if (whole.kind != Kind::kComplete) require(!whole.addresses.present);

  const std::size_t checked = size < 300 ? size : 300;
  for (std::size_t n = 0; n < checked; ++n) {
    const ProxyParseResult prefix = parse_once(input.first(n));
    switch (whole.kind) {
      case Kind::kComplete:
        if (n < whole.consumed) {
          require(prefix.kind == Kind::kNeedMore);
        } else {
          require(prefix.kind == Kind::kComplete && prefix.consumed == whole.consumed);
          require(prefix.addresses.present == whole.addresses.present);
          require(prefix.addresses.source == whole.addresses.source);
          require(prefix.addresses.source_port == whole.addresses.source_port);
        }
        break;
      case Kind::kInvalid:
        require(prefix.kind != Kind::kComplete);
        break;
      case Kind::kNeedMore:
        require(prefix.kind == Kind::kNeedMore);
        break;
    }
  }
  return 0;
}
