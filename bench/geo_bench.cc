// Geo lookups per second on one thread, straight from the databases
// (uncached) and through a worker's GeoCache, over a client mix where a few
// addresses make most requests (Zipf-like). Uses the npm country database
// from scripts/fetch-geo.sh when present, else a database written here.
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "agent/geo/geo_cache.h"
#include "agent/geo/geo_resolver.h"
#include "tests/support/mmdb_writer.h"

namespace ipattrib::agent {
namespace {

constexpr int kClients = 200000;
constexpr int kDraws = 1 << 20;

std::string written_database() {
  const std::string path = (std::filesystem::temp_directory_path() / "ipattrib-geo-bench.mmdb").string();
  test_support::MmdbWriter writer;
  std::mt19937 rng(7);
  const char* countries[] = {"US", "DE", "GB", "FR", "CN", "IR", "KP", "CU", "UA", "BR", "JP", "IN"};
  for (int i = 0; i < 50000; ++i) {
    const std::uint32_t base = rng();
    const int length = 14 + static_cast<int>(rng() % 15);  // /14 .. /28
    const std::uint32_t network = base & (~0u << (32 - length));
    const std::string text = IpAddress::from_v4(network).to_string() + "/" + std::to_string(length);
    writer.add(text, test_support::MmdbValue::map(
                         {{"country", test_support::MmdbValue::map({{"iso_code", countries[i % 12]}})}}));
  }
  (void)writer.write(path, "GeoIP2-Country", 1700000000);
  return path;
}

struct Workload {
  std::unique_ptr<GeoResolver> resolver;
  std::vector<IpAddress> draws;  // client addresses in request order
  Workload() {
    GeoConfig config;
    const std::string npm = std::string(IPATTRIB_SOURCE_DIR) + "/var/geo/geo-whois-asn-country.mmdb";
    config.add_database(std::filesystem::exists(npm) ? npm : written_database());
    resolver = std::make_unique<GeoResolver>(config);
    if (!resolver->open()) std::abort();

    std::mt19937 rng(42);
    std::vector<IpAddress> clients;
    for (int i = 0; i < kClients; ++i) {
      // Mostly IPv4 spread over the space, one in five IPv6.
      if (i % 5 == 4) {
        std::uint8_t v6[16] = {0x20, 0x01, static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng())};
        for (int b = 4; b < 16; ++b) v6[b] = static_cast<std::uint8_t>(rng());
        clients.push_back(IpAddress::from_v6_bytes(v6));
      } else {
        clients.push_back(IpAddress::from_v4(rng()));
      }
    }
    // Zipf(s = 1.1) over client rank by inverse transform on the CDF.
    std::vector<double> cdf(kClients);
    double sum = 0;
    for (int r = 0; r < kClients; ++r) cdf[r] = (sum += 1.0 / std::pow(r + 1, 1.1));
    std::uniform_real_distribution<double> u(0, sum);
    draws.reserve(kDraws);
    for (int i = 0; i < kDraws; ++i) {
      const auto rank = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
      draws.push_back(clients[static_cast<std::size_t>(rank)]);
    }
  }
};

Workload& workload() {
  static Workload w;
  return w;
}

void run(benchmark::State& state, std::uint32_t cache_entries) {
  Workload& w = workload();
  GeoCache cache(*w.resolver, cache_entries);
  std::size_t i = 0;
  GeoInfo info;
  for (auto _ : state) {
    cache.enrich(w.draws[i++ & (kDraws - 1)], info);
    benchmark::DoNotOptimize(info);
  }
  state.SetItemsProcessed(state.iterations());
  const GeoCacheStats s = cache.stats();
  state.counters["hit_rate"] = s.hits + s.misses ? static_cast<double>(s.hits) / (s.hits + s.misses) : 0;
}

void BM_GeoLookupUncached(benchmark::State& state) {
  run(state, 0);
}
void BM_GeoLookupCached(benchmark::State& state) {
  run(state, static_cast<std::uint32_t>(state.range(0)));
}

BENCHMARK(BM_GeoLookupUncached);
BENCHMARK(BM_GeoLookupCached)->Arg(4096)->Arg(65536);

}  // namespace
}  // namespace ipattrib::agent

BENCHMARK_MAIN();
