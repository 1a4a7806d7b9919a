// Decode: one frame to a PacketView (link, VLAN tags, IPv4/IPv6 with an
// extension header, TCP), the first step of every packet.
#include <benchmark/benchmark.h>

#include <vector>

#include "agent/decode/packet_decoder.h"
#include "bench/micro/synthetic_frame.h"

namespace ipattrib::agent::micro {
namespace {

void BM_DecodeIpv4(benchmark::State& state) {
  SyntheticFrame frame;
  frame.set_tcp(0x18, 1000, 2000);
  frame.set_payload("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const RawFrame raw = frame.frame(1);
  PacketDecoder decoder;
  PacketView view;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(LinkType::kEthernet, raw, view));
    benchmark::DoNotOptimize(view);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeIpv4);

// QinQ (0x88a8 + 0x8100) / IPv6 with a destination-options header / TCP.
std::vector<std::uint8_t> qinq_ipv6_frame() {
  std::vector<std::uint8_t> f(14 + 8 + 40 + 8 + 20 + 16, 0);
  f[12] = 0x88, f[13] = 0xa8;  // outer tag
  f[16] = 0x81, f[17] = 0x00;  // inner tag
  f[20] = 0x86, f[21] = 0xdd;  // IPv6
  std::uint8_t* ip = f.data() + 22;
  ip[0] = 0x60;
  ip[5] = 8 + 20 + 16;  // payload length
  ip[6] = 60;           // next: destination options
  ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 1;
  ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[39] = 2;
  ip[40] = 6;  // options header: next TCP, length 0 (8 bytes)
  std::uint8_t* tcp = ip + 48;
  tcp[0] = 0x9c, tcp[1] = 0x40, tcp[3] = 80, tcp[12] = 5 << 4, tcp[13] = 0x18;
  return f;
}

void BM_DecodeQinqIpv6(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = qinq_ipv6_frame();
  RawFrame raw;
  raw.data = bytes;
  raw.wire_length = static_cast<std::uint32_t>(bytes.size());
  PacketDecoder decoder;
  PacketView view;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.decode(LinkType::kEthernet, raw, view));
    benchmark::DoNotOptimize(view);
  }
  if (decoder.count(DecodeResult::kTcpSegment) != decoder.frames()) state.SkipWithError("frame did not decode");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeQinqIpv6);

}  // namespace
}  // namespace ipattrib::agent::micro
