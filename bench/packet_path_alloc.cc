// packet_path_alloc: shows whether the agent's packet path allocates per
// packet. Every malloc/calloc/realloc/aligned allocation in the process goes
// through the counting definitions below (and so does operator new, which is
// replaced to allocate through them); counting is switched on only around
// PacketPipeline::process_burst, called as the agent calls it: with each
// burst of [pipeline] burst frames the mapped pcap reader reads. The capture
// is replayed twice through one pipeline — a warm-up pass that fills the
// flow table's slabs, the chunk pool and the geo cache, then a steady-state
// pass with every timestamp moved past the first pass's idle timeout — and
// the allocations of each pass are printed per packet and per request.
//
//   packet_path_alloc --config gen.toml [--geo-db F] [--trace N] CAPTURE
//
// --trace N prints the call stacks of the first N steady-state allocations
// (link with -rdynamic, which CMake does, for symbol names; addr2line for
// the rest). Not built with IPATTRIB_SANITIZE: ASan owns malloc there.
#include <execinfo.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "agent/capture/pcap_file_reader.h"
#include "agent/config/agent_config.h"
#include "agent/geo/geo_resolver.h"
#include "agent/pipeline/packet_pipeline.h"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

struct AllocationCounts {
  std::uint64_t calls = 0;
  std::uint64_t bytes = 0;
};

bool g_counting = false;  // the packet path is single-threaded here
AllocationCounts g_counts;
int g_traces_left = 0;
bool g_tracing = false;

void note(std::size_t bytes) {
  if (!g_counting) return;
  ++g_counts.calls;
  g_counts.bytes += bytes;
  if (g_traces_left > 0 && !g_tracing) {
    g_tracing = true;  // backtrace() may allocate the first time it runs
    --g_traces_left;
    void* frames[24];
    const int n = backtrace(frames, 24);
    std::fprintf(stderr, "--- allocation of %zu bytes:\n", bytes);
    backtrace_symbols_fd(frames, n, 2);
    g_tracing = false;
  }
}

}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  note(n);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  note(count * n);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  note(n);
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(std::size_t alignment, std::size_t n) {
  note(n);
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) { return memalign(alignment, n); }
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  void* p = memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}

void* operator new(std::size_t n) {
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return std::malloc(n == 0 ? 1 : n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = memalign(static_cast<std::size_t>(a), n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace ipattrib::agent {
namespace {

class CountingSink final : public AccessEventSink {
 public:
  void on_access(const AccessEvent&) override { ++events; }
  std::uint64_t events = 0;
};

struct PassResult {
  std::uint64_t packets = 0;
  std::uint64_t events = 0;
  AllocationCounts allocations;
  double seconds = 0;
  std::int64_t first_ts_us = 0;
  std::int64_t last_ts_us = 0;
};

// Replays `path` through `pipeline` in bursts, counting allocations inside
// process_burst().
bool replay(const std::string& path, std::int64_t ts_shift_us, std::size_t burst_size, PacketPipeline& pipeline,
            CountingSink& sink, PassResult& result) {
  std::string why_not;
  std::unique_ptr<PacketSource> source = open_pcap_file_reader(path, "", why_not);
  if (source == nullptr) {
    std::fprintf(stderr, "packet_path_alloc: %s: %s\n", path.c_str(), why_not.c_str());
    return false;
  }
  const LinkType link_type = source->link_type();
  std::vector<RawFrame> burst(burst_size);
  const std::uint64_t events_before = sink.events;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    ReadStatus status = ReadStatus::kFrames;
    const std::size_t n = source->read_burst(burst, status);
    for (std::size_t i = 0; i < n; ++i) {
      burst[i].ts_us += ts_shift_us;
      if (result.packets == 0) result.first_ts_us = burst[i].ts_us;
      result.last_ts_us = burst[i].ts_us;
      ++result.packets;
    }
    const AllocationCounts before = g_counts;
    g_counting = true;
    pipeline.process_burst(link_type, {burst.data(), n});
    g_counting = false;
    result.allocations.calls += g_counts.calls - before.calls;
    result.allocations.bytes += g_counts.bytes - before.bytes;
    if (status == ReadStatus::kError) {
      std::fprintf(stderr, "packet_path_alloc: %s\n", source->error().c_str());
      return false;
    }
    if (status == ReadStatus::kEnd) break;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.events = sink.events - events_before;
  return true;
}

void print(const char* name, const PassResult& r) {
  const double per_packet = r.packets ? static_cast<double>(r.allocations.calls) / r.packets : 0;
  const double per_request = r.events ? static_cast<double>(r.allocations.calls) / r.events : 0;
  std::printf("%-12s packets=%llu requests=%llu allocations=%llu (%.4f/packet, %.4f/request, %llu bytes) "
              "%.2f M packets/s\n",
              name, static_cast<unsigned long long>(r.packets), static_cast<unsigned long long>(r.events),
              static_cast<unsigned long long>(r.allocations.calls), per_packet, per_request,
              static_cast<unsigned long long>(r.allocations.bytes), r.seconds > 0 ? r.packets / r.seconds / 1e6 : 0);
}

int run(int argc, char** argv) {
  std::string config_path;
  std::string capture;
  std::vector<std::string> geo_dbs;
  int traces = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--geo-db" && i + 1 < argc) {
      geo_dbs.emplace_back(argv[++i]);
    } else if (arg == "--trace" && i + 1 < argc) {
      traces = std::atoi(argv[++i]);
    } else if (capture.empty() && arg[0] != '-') {
      capture = arg;
    } else {
      capture.clear();
      break;
    }
  }
  if (capture.empty()) {
    std::fprintf(stderr, "usage: packet_path_alloc [--config FILE] [--geo-db FILE]... [--trace N] CAPTURE\n");
    return 2;
  }
  AgentConfig config = default_agent_config();
  if (!config_path.empty()) {
    ConfigErrors errors(config_path);
    if (!load_agent_config(config_path, config, errors)) {
      std::fprintf(stderr, "%s", errors.to_string().c_str());
      return 1;
    }
  }
  for (const std::string& path : geo_dbs) config.geo.add_database(path);
  GeoResolver geo(config.geo);
  if (Status s = geo.open(); !s) {
    std::fprintf(stderr, "packet_path_alloc: geo: %s\n", s.message().c_str());
    return 1;
  }
  CountingSink sink;
  PacketPipeline pipeline(config, geo, sink);
  const auto burst = static_cast<std::size_t>(config.pipeline.burst);

  PassResult warm;
  if (!replay(capture, 0, burst, pipeline, sink, warm)) return 1;
  // Past the idle timeout: the second pass's flows never meet the first's.
  const std::int64_t shift =
      warm.last_ts_us - warm.first_ts_us + std::int64_t{config.flow.idle_timeout_s + 1} * 1000000;
  g_traces_left = traces;
  PassResult steady;
  if (!replay(capture, shift, burst, pipeline, sink, steady)) return 1;
  g_traces_left = 0;
  g_counts = {};
  g_counting = true;
  pipeline.finish();
  g_counting = false;
  std::printf("capture %s, geo databases: %zu\n", capture.c_str(), geo_dbs.size());
  print("warm-up", warm);
  print("steady", steady);
  std::printf("finish       allocations=%llu (end of input: flows flushed)\n",
              static_cast<unsigned long long>(g_counts.calls));
  return 0;
}

}  // namespace
}  // namespace ipattrib::agent

int main(int argc, char** argv) { return ipattrib::agent::run(argc, argv); }
