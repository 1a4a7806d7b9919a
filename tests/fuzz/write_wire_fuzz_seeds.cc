// Writes the seed corpus of fuzz_wire_frames (see that file for the input
// layout) from frames made by the codec itself, so no binary files are
// checked in. Usage: write_wire_fuzz_seeds OUT_DIR -> OUT_DIR/fuzz_wire_frames/seed-<n>.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/wire/record_payload.h"
#include "ipattrib/wire/batch_codec.h"
#include "ipattrib/wire/control_messages.h"

namespace {

using namespace ipattrib;
using namespace ipattrib::wire;
using Bytes = std::vector<std::uint8_t>;

RecordBatch seed_batch(std::uint64_t sequence, int records) {
  RecordBatch batch;
  batch.agent_id = "agent-1";
  batch.sequence = sequence;
  for (int i = 0; i < records; ++i) {
    AttributionRecord r;
    r.account = "acct-" + std::to_string(i % 3);
    r.principal = i % 2 ? "" : "alice";
    r.client_ip = *IpAddress::parse(i % 2 ? "2001:db8::7" : "198.51.100.7");
    r.access_class = i % 2 ? RecordClass::kAdmin : RecordClass::kAccess;
    r.ip_source = static_cast<RecordIpSource>(i % 5);
    r.gateway = "gw";
    r.geo = RecordGeo{"UA", "UA", "UA-43", 15169, "AS Ω", 3, 1'700'000'000};
    for (int k = 0; k <= i; ++k) r.access_times_ms.push_back(1'763'890'000'000 + k * k * 250);
    batch.records.push_back(r);
  }
  return batch;
}

Bytes stream_seed(std::uint8_t chunk, const std::vector<Bytes>& frames) {
  Bytes out = {0, chunk};
  for (const Bytes& f : frames) out.insert(out.end(), f.begin(), f.end());
  return out;
}

// A seed the codec refused would test nothing: say so and fail.
bool must(const Status& status) {
  if (!status.is_ok()) std::fprintf(stderr, "seed not encodable: %s\n", status.message().c_str());
  return status.is_ok();
}

std::vector<Bytes> seeds(bool& ok) {
  Bytes hello, hello_ack, batch, big_batch, ack, error;
  ok = must(encode_hello(Hello{"agent-1", "gw-1", "ipattrib-agent 0.1.0", 3, 9}, hello)) &&
       must(encode_hello_ack(HelloAck{2, 16u << 20, "ipattrib-collector 0.1.0"}, hello_ack)) &&
       must(encode_batch(seed_batch(3, 3), batch)) && must(encode_batch(seed_batch(4, 12), big_batch)) &&
       must(encode_ack(Ack{3}, ack)) &&
       must(encode_error(WireError{WireErrorCode::kBadBatch, "record 2: account is empty"}, error));
  std::vector<Bytes> out = {
      stream_seed(15, {hello, batch, big_batch}),
      stream_seed(0, {hello_ack, ack, ack, error}),
      stream_seed(6, {batch}),
      stream_seed(3, {Bytes{0, 0, 0, 0, 2, 1, 0, 0}}),  // version 2
      stream_seed(3, {Bytes{0xff, 0xff, 0xff, 0xff, 1, 3, 0, 0}}),  // oversize
  };
  for (int records : {1, 4, 9}) {
    Bytes payload = {1, static_cast<std::uint8_t>(records)};
    ok = must(encode_record_payload(seed_batch(1, records).records, payload, WireLimits())) && ok;
    out.push_back(payload);
  }
  return out;
}

bool write_seed(const std::filesystem::path& dir, int index, const Bytes& bytes) {
  std::ofstream out(dir / ("seed-" + std::to_string(index)), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::path(argv[1]) / "fuzz_wire_frames";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  int index = 0;
  bool ok = true;
  for (const Bytes& seed : seeds(ok)) ok = write_seed(dir, index++, seed) && ok;
  if (!ok) std::fprintf(stderr, "cannot write seeds to %s\n", dir.c_str());
  return ok ? 0 : 1;
}
