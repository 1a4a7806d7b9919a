// ipattrib-gen: writes a synthetic API-gateway capture with its ground truth,
// for the agent's integration test and throughput benchmarks.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "bench/generator/capture_generator.h"
#include "bench/generator/demo_geo_db.h"

int main(int argc, char** argv) {
  ipattrib::bench::GeneratorOptions options;
  CLI::App app{"ipattrib-gen: synthetic API-gateway capture (pcap) with ground truth"};
  app.add_option("--out", options.pcap_path, "pcap file to write")->required();
  app.add_option("--truth", options.truth_path, "ground-truth TSV of every request");
  app.add_option("--requests", options.requests, "number of HTTP requests")->capture_default_str();
  app.add_option("--seed", options.seed, "random seed; the same seed gives identical files")->capture_default_str();
  app.add_option("--idle-connections", options.idle_connections,
                 "connections that complete a handshake before the traffic and stay open (flow-table load)")
      ->capture_default_str()
      ->check(CLI::Range(0u, ipattrib::bench::GeneratorOptions::kMaxIdleConnections));
  auto* keys = app.add_option("--keys-out", options.keys_path, "API-key file for the agent's api_key rule");
  app.add_option("--config-out", options.config_path, "agent TOML config matching the traffic")->needs(keys);
  std::string geo_path;
  app.add_option("--geo-out", geo_path,
                 "also write a demo MaxMind DB placing the generated clients in countries (some under special "
                 "measures: 203.0.113.0/24 IR, 2001:db8:1000::/36 UA-43, 2001:db8:2000::/36 RU)");
  CLI11_PARSE(app, argc, argv);
  if (!geo_path.empty()) {
    if (const ipattrib::Status s = ipattrib::bench::write_demo_geo_db(geo_path); !s) {
      std::fprintf(stderr, "ipattrib-gen: %s\n", s.message().c_str());
      return 1;
    }
  }

  ipattrib::bench::GeneratorSummary summary;
  const ipattrib::Status status = ipattrib::bench::generate_capture(options, summary);
  if (!status) {
    std::fprintf(stderr, "ipattrib-gen: %s\n", status.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "ipattrib-gen: packets=%llu requests=%llu bytes=%llu\n",
               static_cast<unsigned long long>(summary.packets), static_cast<unsigned long long>(summary.requests),
               static_cast<unsigned long long>(summary.bytes));
  return 0;
}
