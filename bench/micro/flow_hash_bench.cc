// The capture thread's worker choice with several workers (software
// dispatch): what it cost before — a full decode into a PacketView, then
// symmetric_flow_hash — against frame_flow_hash, which reads the endpoints at
// fixed offsets. In cache (one frame) and with every frame a cache miss (a
// different frame each time, 64 MiB of them), as a capture thread meets them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "agent/decode/packet_decoder.h"
#include "agent/pipeline/flow_hash.h"
#include "bench/micro/synthetic_frame.h"

namespace ipattrib::agent::micro {
namespace {

// 802.1ad + 802.1Q tags, IPv6 (no extension header), TCP: the generator's
// QinQ shape.
std::vector<std::uint8_t> qinq_ipv6_frame(std::uint16_t src_port) {
  std::vector<std::uint8_t> f(14 + 8 + 40 + 20 + 16, 0);
  f[12] = 0x88, f[13] = 0xa8;
  f[16] = 0x81, f[17] = 0x00;
  f[20] = 0x86, f[21] = 0xdd;
  std::uint8_t* ip = f.data() + 22;
  ip[0] = 0x60;
  ip[5] = 20 + 16;  // payload length
  ip[6] = 6;        // next: TCP
  ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 1;
  ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[39] = 2;
  std::uint8_t* tcp = ip + 40;
  tcp[0] = static_cast<std::uint8_t>(src_port >> 8), tcp[1] = static_cast<std::uint8_t>(src_port);
  tcp[3] = 80, tcp[12] = 5 << 4, tcp[13] = 0x18;
  return f;
}

// `count` frames of `shape` (0: IPv4, 1: QinQ IPv6), each in its own 512-byte
// slot, with different source ports.
struct Frames {
  std::vector<std::uint8_t> bytes;
  std::vector<RawFrame> frames;
  Frames(std::size_t count, int shape) : bytes(count * 512), frames(count) {
    SyntheticFrame v4;
    v4.set_tcp(0x18, 1000, 2000);
    v4.set_payload("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    for (std::size_t i = 0; i < count; ++i) {
      const auto port = static_cast<std::uint16_t>(1024 + i % 60000);
      v4.set_endpoints(0xC6120001 + static_cast<std::uint32_t>(i >> 16), port, 0xC000020A, 80);
      const RawFrame raw = v4.frame(1);
      const std::vector<std::uint8_t> v6 = qinq_ipv6_frame(port);
      const std::span<const std::uint8_t> src = shape == 0 ? raw.data : std::span<const std::uint8_t>(v6);
      std::copy(src.begin(), src.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i * 512));
      frames[i].data = {bytes.data() + i * 512, src.size()};
      frames[i].wire_length = static_cast<std::uint32_t>(src.size());
    }
  }
};

// args: shape, frames (1: in cache; 131072: 64 MiB, a miss each)
void BM_WorkerChoiceDecodeThenHash(benchmark::State& state) {
  const Frames f(static_cast<std::size_t>(state.range(1)), static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    PacketView view;
    const RawFrame& frame = f.frames[i];
    i = i + 1 == f.frames.size() ? 0 : i + 1;
    if (decode_tcp_segment(LinkType::kEthernet, frame, view) != DecodeResult::kTcpSegment) {
      state.SkipWithError("frame did not decode");
      break;
    }
    benchmark::DoNotOptimize(symmetric_flow_hash(view));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkerChoiceDecodeThenHash)->ArgsProduct({{0, 1}, {1, 131072}});

void BM_WorkerChoiceFrameFlowHash(benchmark::State& state) {
  const Frames f(static_cast<std::size_t>(state.range(1)), static_cast<int>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint32_t hash = 0;
    const RawFrame& frame = f.frames[i];
    i = i + 1 == f.frames.size() ? 0 : i + 1;
    if (!frame_flow_hash(LinkType::kEthernet, frame, hash)) {
      state.SkipWithError("frame did not hash");
      break;
    }
    benchmark::DoNotOptimize(hash);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkerChoiceFrameFlowHash)->ArgsProduct({{0, 1}, {1, 131072}});

}  // namespace
}  // namespace ipattrib::agent::micro
