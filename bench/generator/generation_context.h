// GenerationContext: what every simulated connection shares while the
// capture is written — the output files, the seeded randomness, the request
// factory and the capture clock.
#pragma once

#include <cstdint>

#include "bench/generator/ground_truth_writer.h"
#include "bench/generator/pcap_file_writer.h"
#include "bench/generator/request_factory.h"
#include "bench/generator/seeded_random.h"
#include "bench/generator/traffic_population.h"

namespace ipattrib::bench {

struct GenerationContext {
  PcapFileWriter& pcap;
  GroundTruthWriter& truth;
  SeededRandom& random;
  TrafficPopulation& population;
  RequestFactory& requests;
  std::int64_t now_us = 0;

  // Every packet gets its own, strictly later, timestamp: file order is time order.
  std::int64_t tick() { return now_us += random.between(1, 30); }
};

}  // namespace ipattrib::bench
