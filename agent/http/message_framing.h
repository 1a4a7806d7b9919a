// Request body framing (RFC 9112 §6): after a head, how many of the following
// bytes belong to its body, so the stream parser can skip exactly those and
// find the next request. Getting this wrong would report body bytes as
// requests (or miss requests), so anything ambiguous is kInvalid and the
// caller resynchronises.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "agent/http/request_head.h"

namespace ipattrib::agent {

struct BodyFraming {
  enum class Kind : std::uint8_t {
    kNone,     // no body: the next request follows the head
    kLength,   // Content-Length bytes
    kChunked,  // Transfer-Encoding ending in chunked
    kTunnel,   // CONNECT: the rest of the stream is not HTTP/1.x
    kInvalid,  // unknown transfer coding, bad or conflicting Content-Length
  };
  Kind kind = Kind::kNone;
  std::uint64_t length = 0;  // kLength
  // An Upgrade header: after this message the stream switches protocol if
  // the server agreed (101), which the agent cannot see.
  bool upgrade = false;
};

BodyFraming request_body_framing(const RequestHead& head);

// A chunk-size line without its line end: hex size, optional whitespace and
// ";extension" text. nullopt when malformed or larger than 2^60.
std::optional<std::uint64_t> parse_chunk_size_line(std::string_view line);

}  // namespace ipattrib::agent
