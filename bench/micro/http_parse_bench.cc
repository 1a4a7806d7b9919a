// HTTP parsing: a typical gateway request head through RequestHeadParser
// alone, and through RequestStreamParser (head search, framing, body skip)
// delivered whole, split in three, and as two pipelined requests.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "agent/http/request_head_parser.h"
#include "agent/http/request_stream_parser.h"

namespace ipattrib::agent::micro {
namespace {

constexpr std::string_view kHead =
    "POST /v1/accounts/acct-1234/orders?expand=items HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: example-sdk/2.3.1 (linux; x86_64)\r\n"
    "Accept: application/json\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Content-Type: application/json\r\n"
    "X-Request-Id: 5f2b8c1e-9d4a-4e7b-a1c3-7e6f5d4c3b2a\r\n"
    "X-Account-Id: acct-1234\r\n"
    "Content-Length: 27\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";
constexpr std::string_view kBody = "{\"item\":\"x\",\"quantity\":42}\n";

void BM_RequestHeadParse(benchmark::State& state) {
  RequestHeadParser parser;
  RequestHead head;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(kHead, head));
    benchmark::DoNotOptimize(head);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kHead.size()));
}
BENCHMARK(BM_RequestHeadParse);

class CountingRequestSink final : public RequestSink {
 public:
  void on_request(const RequestContext&, const RequestHead& head) override {
    ++requests;
    benchmark::DoNotOptimize(head.method.data());
  }
  std::uint64_t requests = 0;
};

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Feeds `message` in `pieces` deliveries the way the flow table does: what a
// call leaves unconsumed is offered again in front of the next piece.
void BM_RequestStream(benchmark::State& state) {
  const int pieces = static_cast<int>(state.range(0));
  const bool pipelined = state.range(1) != 0;
  std::string message = std::string(kHead) + std::string(kBody);
  if (pipelined) message += message;
  HttpConfig config;
  CountingRequestSink sink;
  RequestStreamParser parser(config, sink);
  const FlowEndpoints endpoints{IpAddress::from_v4(0xC6120001), IpAddress::from_v4(0xC000020A), 40000, 80};
  RequestStreamState stream;
  std::string pending;
  for (auto _ : state) {
    const std::size_t step = (message.size() + pieces - 1) / pieces;
    for (std::size_t at = 0; at < message.size(); at += step) {
      pending.append(message, at, step);
      const std::size_t used = parser.on_client_bytes(endpoints, stream, bytes_of(pending), 1);
      pending.erase(0, used);
    }
  }
  if (sink.requests != static_cast<std::uint64_t>(state.iterations()) * (pipelined ? 2 : 1)) {
    state.SkipWithError("requests were lost");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.requests));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(message.size()));
}
BENCHMARK(BM_RequestStream)->ArgNames({"pieces", "pipelined"})->Args({1, 0})->Args({3, 0})->Args({1, 1});

}  // namespace
}  // namespace ipattrib::agent::micro
