#include "agent/http/request_stream_parser.h"

#include <algorithm>

#include "agent/http/http_syntax.h"
#include "agent/http/message_framing.h"

namespace ipattrib::agent {
namespace {

using Phase = RequestStreamState::Phase;
using http_syntax::kNotFound;
using http_syntax::Shape;

// Chunk-size lines carry a hex size and short extensions.
constexpr std::size_t kMaxChunkLineBytes = 4096;
// Zero-length steps only change the phase; more than a few in a row would
// mean a state machine bug, which must not hang the packet path.
constexpr int kMaxIdleSteps = 8;

bool is_empty_line(std::span<const std::uint8_t> line) {
  return line.size() == 1 || (line.size() == 2 && line[0] == '\r');
}

std::size_t last_line_end(std::span<const std::uint8_t> bytes) {
  for (std::size_t i = bytes.size(); i > 0; --i) {
    if (bytes[i - 1] == '\n') return i;
  }
  return kNotFound;
}

}  // namespace

struct RequestStreamParser::Step {
  const FlowEndpoints& endpoints;
  std::int64_t ts_us;
};

RequestStreamParser::RequestStreamParser(const HttpConfig& config, RequestSink& sink)
    : config_(config), sink_(sink), head_parser_(config.max_headers, config.max_head_bytes) {
  for (std::uint16_t port : config_.ports) http_ports_.set(port);
  for (std::uint16_t port : config_.proxy_protocol_ports) {
    proxy_ports_.set(port);
    http_ports_.set(port);
  }
}

bool RequestStreamParser::wants_flow(const FlowEndpoints& endpoints) const {
  return config_.any_port || http_ports_.test(endpoints.server_port);
}

bool RequestStreamParser::looks_like_request(std::span<const std::uint8_t> payload) const {
  switch (http_syntax::request_line_shape(payload, config_.max_head_bytes)) {
    case Shape::kYes:
      return true;
    case Shape::kNo:
      return false;
    case Shape::kNeedMore:
      break;
  }
  // Cut by the segment end (a long target): trust only a well-known method.
  const std::string_view text = http_syntax::as_text(payload);
  const std::size_t space = text.find(' ');
  return space != std::string_view::npos && http_syntax::is_known_method(text.substr(0, space));
}

bool RequestStreamParser::is_client_to_server(const PacketView& segment) const {
  if (!config_.any_port) return http_ports_.test(segment.dst_port);
  if (is_proxy_port(segment.dst_port) && ProxyProtocolParser::starts_like_proxy(segment.payload)) return true;
  return looks_like_request(segment.payload);
}

std::size_t RequestStreamParser::on_client_bytes(const FlowEndpoints& endpoints, RequestStreamState& state,
                                                 std::span<const std::uint8_t> data, std::int64_t ts_us) {
  const Step in{endpoints, ts_us};
  std::size_t pos = 0;
  int idle_steps = 0;
  while (pos < data.size()) {
    const std::size_t n = step(in, state, data.subspan(pos));
    if (n == kWait) break;
    state.scanned = 0;  // the kept buffer now starts elsewhere, or the phase changed
    pos += n;
    idle_steps = n == 0 ? idle_steps + 1 : 0;
    if (idle_steps > kMaxIdleSteps) {
      state.phase = Phase::kIgnored;  // unreachable by design; never spin
    }
  }
  return pos;
}

std::size_t RequestStreamParser::step(const Step& in, RequestStreamState& state,
                                      std::span<const std::uint8_t> rest) {
  switch (state.phase) {
    case Phase::kStart:
      return step_start(in, state, rest);
    case Phase::kHead:
      return step_head(in, state, rest);
    case Phase::kBody:
    case Phase::kChunkData:
      return skip_body(state, rest);
    case Phase::kChunkHeader:
      return step_chunk_header(state, rest);
    case Phase::kChunkDataEnd:
      return step_chunk_data_end(state, rest);
    case Phase::kChunkTrailer:
      return step_chunk_trailer(state, rest);
    case Phase::kResync:
      return step_resync(state, rest);
    case Phase::kTunnel:
      counters_.tunnel_bytes += rest.size();
      return rest.size();
    case Phase::kIgnored:
      break;
  }
  counters_.ignored_bytes += rest.size();
  return rest.size();
}

std::size_t RequestStreamParser::step_start(const Step& in, RequestStreamState& state,
                                            std::span<const std::uint8_t> rest) {
  state.phase = Phase::kHead;
  if (!is_proxy_port(in.endpoints.server_port)) return 0;
  const ProxyParseResult header = proxy_parser_.parse(rest);
  switch (header.kind) {
    case ProxyParseResult::Kind::kNeedMore:
      state.phase = Phase::kStart;
      return wait(state, rest, rest.size());
    case ProxyParseResult::Kind::kInvalid:
      state.phase = Phase::kIgnored;  // counted as proxy.invalid; never guess the client
      return 0;
    case ProxyParseResult::Kind::kComplete:
      break;
  }
  state.proxy = header.addresses;
  return header.consumed;
}

std::size_t RequestStreamParser::step_head(const Step& in, RequestStreamState& state,
                                           std::span<const std::uint8_t> rest) {
  // Empty lines before a request line are allowed (RFC 9112 §2.2); clients
  // send them after bodies.
  std::size_t blanks = 0;
  while (blanks < rest.size() && (rest[blanks] == '\r' || rest[blanks] == '\n')) ++blanks;
  if (blanks > 0) {
    counters_.empty_line_bytes += blanks;
    return blanks;
  }
  const std::size_t limit = config_.max_head_bytes;
  // Decide "not a request" as early as the bytes allow: a non-HTTP stream
  // must not be buffered up to max_head_bytes.
  if (http_syntax::request_start_shape(rest) == Shape::kNo) return reject_start(state, 0);
  if (state.scanned == 0) return step_whole_head(in, state, rest);
  // Bytes were added to a head seen incomplete: search on from where the
  // last search stopped rather than parsing the whole head each time. A
  // first line that was complete then (its LF before `scanned`) was checked
  // then: the kept bytes only grew since.
  const std::size_t line_end = http_syntax::find_line_end(rest, 0, limit);
  if (line_end != kNotFound && line_end > state.scanned &&
      !RequestHeadParser::is_request_line(http_syntax::as_text(rest.first(line_end - 1)))) {
    return reject_start(state, line_end);
  }
  const std::size_t end = http_syntax::find_head_end(rest, std::min<std::size_t>(state.scanned, rest.size()), limit);
  if (end != kNotFound) return deliver_head(in, state, rest.first(end));
  if (rest.size() < limit) return wait(state, rest, 2);  // "\n\r" may end the buffer
  ++counters_.head_too_large;
  const std::size_t through_lf = last_line_end(rest.first(limit));
  return resync(state, through_lf != kNotFound, through_lf != kNotFound ? through_lf : limit);
}

std::size_t RequestStreamParser::step_whole_head(const Step& in, RequestStreamState& state,
                                                 std::span<const std::uint8_t> rest) {
  using Kind = RequestHeadParser::PrefixResult::Kind;
  const std::size_t limit = config_.max_head_bytes;
  sink_.upcoming_request(RequestContext{in.ts_us, &in.endpoints, state.proxy.present ? &state.proxy : nullptr});
  RequestHead head;
  const RequestHeadParser::PrefixResult parsed = head_parser_.parse_prefix(http_syntax::as_text(rest), limit, head);
  switch (parsed.kind) {
    case Kind::kBadRequestLine:
      return reject_start(state, parsed.size);
    case Kind::kComplete:
      if (parsed.result != RequestHeadParser::Result::kOk) return resync(state, true, parsed.size);
      return deliver_parsed_head(in, state, head, parsed.size);
    case Kind::kIncomplete:
      break;
  }
  if (rest.size() < limit) return wait(state, rest, 2);  // "\n\r" may end the buffer
  ++counters_.head_too_large;
  const std::size_t through_lf = last_line_end(rest.first(limit));
  return resync(state, through_lf != kNotFound, through_lf != kNotFound ? through_lf : limit);
}

std::size_t RequestStreamParser::reject_start(RequestStreamState& state, std::size_t line_end) {
  if (state.upgrade_pending) {  // the server switched protocols (WebSocket, h2c, ...)
    ++counters_.tunnels;
    state.phase = Phase::kTunnel;
    return 0;
  }
  if (state.seen_http) {  // lost sync inside an HTTP stream
    if (line_end > 0) ++counters_.bad_request_line;
    return resync(state, true, line_end);
  }
  ++counters_.not_http;
  state.phase = Phase::kIgnored;
  return 0;
}

std::size_t RequestStreamParser::deliver_head(const Step& in, RequestStreamState& state,
                                              std::span<const std::uint8_t> bytes) {
  RequestHead head;
  if (head_parser_.parse(http_syntax::as_text(bytes), head) != RequestHeadParser::Result::kOk) {
    return resync(state, true, bytes.size());
  }
  return deliver_parsed_head(in, state, head, bytes.size());
}

std::size_t RequestStreamParser::deliver_parsed_head(const Step& in, RequestStreamState& state,
                                                     const RequestHead& head, std::size_t size) {
  ++counters_.requests;
  ++state.requests_seen;
  state.seen_http = true;
  const RequestContext context{in.ts_us, &in.endpoints, state.proxy.present ? &state.proxy : nullptr};
  sink_.on_request(context, head);

  const BodyFraming framing = request_body_framing(head);
  state.upgrade_pending = framing.upgrade;
  switch (framing.kind) {
    case BodyFraming::Kind::kNone:
      break;
    case BodyFraming::Kind::kLength:
      state.phase = Phase::kBody;
      state.body_remaining = framing.length;
      break;
    case BodyFraming::Kind::kChunked:
      state.phase = Phase::kChunkHeader;
      break;
    case BodyFraming::Kind::kTunnel:
      ++counters_.tunnels;
      state.phase = Phase::kTunnel;
      break;
    case BodyFraming::Kind::kInvalid:
      ++counters_.bad_framing;
      resync(state, true, 0);
      break;
  }
  return size;
}

std::size_t RequestStreamParser::skip_body(RequestStreamState& state, std::span<const std::uint8_t> rest) {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(state.body_remaining, rest.size()));
  state.body_remaining -= n;
  counters_.body_bytes_skipped += n;
  if (state.body_remaining == 0) state.phase = state.phase == Phase::kBody ? Phase::kHead : Phase::kChunkDataEnd;
  return n;
}

std::size_t RequestStreamParser::step_chunk_header(RequestStreamState& state, std::span<const std::uint8_t> rest) {
  const std::size_t end = http_syntax::find_line_end(rest, state.scanned, kMaxChunkLineBytes);
  if (end == kNotFound) {
    if (rest.size() < kMaxChunkLineBytes) return wait(state, rest, 0);
    ++counters_.bad_framing;
    return resync(state, false, kMaxChunkLineBytes);
  }
  std::string_view line = http_syntax::as_text(rest.first(end - 1));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const auto size = parse_chunk_size_line(line);
  if (!size) {
    ++counters_.bad_framing;
    return resync(state, true, end);
  }
  counters_.body_bytes_skipped += end;
  state.body_remaining = *size;
  state.phase = *size == 0 ? Phase::kChunkTrailer : Phase::kChunkData;
  return end;
}

std::size_t RequestStreamParser::step_chunk_data_end(RequestStreamState& state, std::span<const std::uint8_t> rest) {
  std::size_t n = 0;
  if (rest[0] == '\n') {
    n = 1;
  } else if (rest[0] == '\r' && rest.size() == 1) {
    return wait(state, rest, 1);
  } else if (rest[0] == '\r' && rest[1] == '\n') {
    n = 2;
  } else {
    ++counters_.bad_framing;
    return resync(state, false, 0);
  }
  counters_.body_bytes_skipped += n;
  state.phase = Phase::kChunkHeader;
  return n;
}

std::size_t RequestStreamParser::step_chunk_trailer(RequestStreamState& state, std::span<const std::uint8_t> rest) {
  const std::size_t end = http_syntax::find_line_end(rest, state.scanned, config_.max_head_bytes);
  if (end == kNotFound) {
    if (rest.size() < config_.max_head_bytes) return wait(state, rest, 0);
    ++counters_.bad_framing;
    return resync(state, false, config_.max_head_bytes);
  }
  counters_.body_bytes_skipped += end;
  if (is_empty_line(rest.first(end))) state.phase = Phase::kHead;
  return end;
}

std::size_t RequestStreamParser::step_resync(RequestStreamState& state, std::span<const std::uint8_t> rest) {
  std::size_t pos = 0;
  bool line_start = state.at_line_start;
  while (pos < rest.size()) {
    if (line_start) {
      const Shape shape = http_syntax::request_line_shape(rest.subspan(pos), config_.max_head_bytes);
      if (shape == Shape::kYes) {
        state.phase = Phase::kHead;
        state.seen_http = true;
        counters_.resync_bytes_skipped += pos;
        return pos;
      }
      if (shape == Shape::kNeedMore) {
        if (pos == 0) return wait(state, rest, rest.size());
        state.at_line_start = true;
        counters_.resync_bytes_skipped += pos;
        return pos;
      }
    }
    const std::size_t next = http_syntax::find_line_end(rest, pos, rest.size());
    if (next == kNotFound) {
      pos = rest.size();
      line_start = false;
      break;
    }
    pos = next;
    line_start = true;
  }
  state.at_line_start = line_start;
  counters_.resync_bytes_skipped += pos;
  return pos;
}

std::size_t RequestStreamParser::wait(RequestStreamState& state, std::span<const std::uint8_t> rest,
                                      std::size_t rescan) {
  const std::size_t scanned = rest.size() > rescan ? rest.size() - rescan : 0;
  state.scanned = static_cast<std::uint32_t>(std::min<std::size_t>(scanned, UINT32_MAX));
  return kWait;
}

std::size_t RequestStreamParser::resync(RequestStreamState& state, bool at_line_start, std::size_t consumed) {
  ++counters_.resyncs;
  state.phase = Phase::kResync;
  state.at_line_start = at_line_start;
  state.body_remaining = 0;
  state.upgrade_pending = false;
  counters_.resync_bytes_skipped += consumed;
  return consumed;
}

void RequestStreamParser::on_gap(const FlowEndpoints& endpoints, RequestStreamState& state) {
  state.scanned = 0;
  switch (state.phase) {
    case Phase::kTunnel:
    case Phase::kIgnored:
      return;
    case Phase::kStart:
      if (is_proxy_port(endpoints.server_port)) {
        ++counters_.proxy_lost;
        state.phase = Phase::kIgnored;
        return;
      }
      break;
    default:
      break;
  }
  resync(state, true, 0);
}

void RequestStreamParser::report(StatsSink& sink) const {
  const RequestHeadParser::Counters& head = head_parser_.counters();
  sink.counter("http.requests", counters_.requests);
  sink.counter("http.not_http", counters_.not_http);
  sink.counter("http.resyncs", counters_.resyncs);
  sink.counter("http.tunnels", counters_.tunnels);
  sink.counter("http.bad_framing", counters_.bad_framing);
  sink.counter("http.bad_request_line", head.bad_request_line + counters_.bad_request_line);
  sink.counter("http.bad_header", head.bad_header);
  sink.counter("http.too_many_headers", head.too_many_headers);
  sink.counter("http.head_too_large", head.head_too_large + counters_.head_too_large);
  sink.counter("http.body_bytes_skipped", counters_.body_bytes_skipped);
  sink.counter("http.tunnel_bytes", counters_.tunnel_bytes);
  sink.counter("http.ignored_bytes", counters_.ignored_bytes);
  sink.counter("http.resync_bytes_skipped", counters_.resync_bytes_skipped);
  sink.counter("http.empty_line_bytes", counters_.empty_line_bytes);
  proxy_parser_.report(sink);
  sink.counter("proxy.lost", counters_.proxy_lost);
}

}  // namespace ipattrib::agent
