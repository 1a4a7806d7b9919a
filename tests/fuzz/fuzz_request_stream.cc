// Fuzz target: RequestStreamParser over one client stream. Input layout:
//   byte 0: flags — bit 0 the server port is a PROXY listener, bit 1 small
//           limits (max_head_bytes 256, max_headers 4), bit 2 inject gaps
//   byte 1: seed for the delivery split (0: one byte at a time)
//   rest:   the client->server bytes
// The stream is delivered whole and split at seed-chosen points through a
// flow-table stand-in; without gaps both must find the same requests, end in
// the same state and count the same (results may not depend on segmentation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/http/request_stream_parser.h"
#include "tests/unit/agent/http/recording_request_sink.h"

namespace {

using namespace ipattrib::agent;  // NOLINT: test driver

constexpr std::uint16_t kProxyPort = 8443;

void require(bool condition) {
  if (!condition) std::abort();
}

struct Run {
  std::vector<std::string> requests;
  std::map<std::string, std::uint64_t> counters;
  RequestStreamState::Phase phase;
  std::size_t kept;
};

class SplitSchedule {
 public:
  explicit SplitSchedule(std::uint8_t seed) : seed_(seed), state_(seed * 2654435761u + 1) {}
  std::size_t next_piece() {
    if (seed_ == 0) return 1;
    state_ = state_ * 1103515245u + 12345u;
    return 1 + (state_ >> 16) % (1u + seed_);
  }
  bool next_gap() {
    state_ = state_ * 1103515245u + 12345u;
    return ((state_ >> 20) & 7u) == 0;
  }

 private:
  std::uint8_t seed_;
  std::uint32_t state_;
};

Run run(const HttpConfig& config, std::uint16_t server_port, std::string_view stream, int mode, std::uint8_t seed) {
  RecordingRequestSink sink;
  RequestStreamParser parser(config, sink);
  FlowEndpoints endpoints;
  endpoints.client_ip = *ipattrib::IpAddress::parse("192.0.2.1");
  endpoints.server_ip = *ipattrib::IpAddress::parse("10.0.0.1");
  endpoints.client_port = 40000;
  endpoints.server_port = server_port;
  FlowStreamDriver driver(parser, endpoints);
  if (mode == 0) {
    driver.deliver(stream);
  } else {
    SplitSchedule schedule(seed);
    for (std::size_t at = 0; at < stream.size();) {
      const std::size_t piece = schedule.next_piece();
      driver.deliver(stream.substr(at, piece));
      at += piece;
      if (mode == 2 && schedule.next_gap()) driver.gap();
    }
  }
  require(!driver.overconsumed());
  CounterMap counters;
  parser.report(counters);
  return Run{sink.summaries(), counters.values, driver.state().phase, driver.kept()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::uint8_t seed = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  HttpConfig config;
  config.proxy_protocol_ports = {kProxyPort};
  if (flags & 2) {
    config.max_head_bytes = 256;
    config.max_headers = 4;
  }
  const std::uint16_t port = (flags & 1) ? kProxyPort : 80;

  const Run whole = run(config, port, stream, 0, seed);
  const Run split = run(config, port, stream, 1, seed);
  require(split.requests == whole.requests);
  require(split.counters == whole.counters);
  require(split.phase == whole.phase);
  require(split.kept == whole.kept);
  if (flags & 4) run(config, port, stream, 2, seed);
  return 0;
}
