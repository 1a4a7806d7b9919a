#include "bench/generator/capture_generator.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/generator/generation_context.h"
#include "bench/generator/simulated_connection.h"

namespace ipattrib::bench {
namespace {

constexpr std::size_t kConcurrentConnections = 200;
constexpr std::int64_t kCaptureStartUs = 1795424400LL * 1000000;  // 2026-11-23T09:00:00Z

struct Gateway {
  HostAddress v4[2] = {HostAddress::v4(192, 0, 2, 10), HostAddress::v4(192, 0, 2, 11)};
  HostAddress v6[2];
  HostAddress proxy_v4 = HostAddress::v4(10, 30, 0, 5);
  HostAddress proxy_v6;
  std::uint16_t proxy_port[2] = {1024, 1024};  // v4, v6

  Gateway() {
    std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    v6[0] = HostAddress::from_bytes(true, b);
    b[15] = 0x11;
    v6[1] = HostAddress::from_bytes(true, b);
    std::uint8_t p[16] = {0xfd, 0x00, 0x00, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};
    proxy_v6 = HostAddress::from_bytes(true, p);
  }
};

std::uint32_t pick_isn(SeededRandom& random) {
  // Some flows start just below 2^32 so their sequence numbers wrap mid-stream.
  return random.percent(10) ? 0xffffffffu - random.below(4000) : random.next_u32();
}

std::uint16_t next_port(std::uint16_t& counter, std::uint16_t low, std::uint16_t high) {
  const std::uint16_t port = counter;
  counter = counter >= high ? low : static_cast<std::uint16_t>(counter + 1);
  return port;
}

ConnectionPlan plan_connection(GenerationContext& ctx, Gateway& gateway, std::uint64_t& unplanned) {
  SeededRandom& random = ctx.random;
  ConnectionPlan plan;
  const bool via_proxy = random.percent(10);
  bool v6;
  if (via_proxy) {
    v6 = random.percent(30);
    plan.peer = v6 ? gateway.proxy_v6 : gateway.proxy_v4;
    plan.peer_port = next_port(gateway.proxy_port[v6 ? 1 : 0], 1024, 65535);
    plan.requests = random.between(5, 40);
  } else {
    std::vector<SimulatedClient>& clients = ctx.population.clients();
    SimulatedClient& client = clients[random.below(static_cast<std::uint32_t>(clients.size()))];
    v6 = client.address.v6;
    plan.client = &client;
    plan.peer = client.address;
    plan.peer_port = next_port(client.next_port, 32768, 60999);
    plan.requests = random.percent(30) ? 1 : random.between(2, 8);
    if (random.percent(2)) plan.requests = 0;  // a probe that connects and leaves
  }
  plan.requests = static_cast<std::uint32_t>(std::min<std::uint64_t>(plan.requests, unplanned));
  unplanned -= plan.requests;
  plan.server = v6 ? gateway.v6[random.below(2)] : gateway.v4[random.below(2)];
  plan.server_port = random.percent(75) ? 80 : 8080;
  const std::uint32_t tagging = random.below(100);
  if (tagging >= 90) {
    plan.tags.count = 2;
    plan.tags.vlan_ids[0] = static_cast<std::uint16_t>(200 + random.below(2));
    plan.tags.vlan_ids[1] = static_cast<std::uint16_t>(10 + random.below(10));
  } else if (tagging >= 70) {
    plan.tags.count = 1;
    plan.tags.vlan_ids[0] = static_cast<std::uint16_t>(100 + random.below(10));
  }
  plan.ipv6_destination_options = v6 && random.percent(10);
  plan.tcp_timestamps = random.percent(50);
  plan.client_isn = pick_isn(random);
  plan.server_isn = pick_isn(random);
  return plan;
}

// Connections that complete their handshake and then stay silent, opened
// one after another before the traffic (see GeneratorOptions). They draw
// from a random stream of their own, so the traffic after them is the same
// whatever their number (only its timestamps move).
void open_idle_connections(GenerationContext& traffic_ctx, const Gateway& gateway, std::uint64_t seed,
                           std::uint32_t count) {
  SeededRandom random(seed ^ 0x1d1e'c0aa'ec71'0a5bULL);
  GenerationContext ctx{traffic_ctx.pcap,       traffic_ctx.truth,    random,
                        traffic_ctx.population, traffic_ctx.requests, traffic_ctx.now_us};
  for (std::uint32_t i = 0; i < count; ++i) {
    ConnectionPlan plan;
    plan.peer = HostAddress::v4(10, static_cast<std::uint8_t>(64 + (i >> 16)), static_cast<std::uint8_t>(i >> 8),
                                static_cast<std::uint8_t>(i));
    plan.peer_port = 40000;
    plan.server = gateway.v4[i & 1];
    plan.server_port = 80;
    plan.stays_open = true;
    plan.client_isn = ctx.random.next_u32();
    plan.server_isn = ctx.random.next_u32();
    SimulatedConnection connection(plan);
    while (connection.step(ctx)) {
    }
  }
  traffic_ctx.now_us = ctx.now_us;
}

Status write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::error("cannot create " + path);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Status::error("write error on " + path);
  return Status::ok();
}

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string agent_config_text(const std::string& key_file) {
  return "# Agent config matching captures written by ipattrib-gen.\n"
         "[http]\n"
         "ports = [80, 8080]\n"
         "\n"
         "[attribution]\n"
         "trusted_proxies = [\"10.30.0.5/32\", \"fd00:30::5/128\"]\n"
         "client_ip_headers = [\"forwarded\", \"x-forwarded-for\", \"x-real-ip\"]\n"
         "\n"
         "[[attribution.account]]\n"
         "type = \"header\"\n"
         "name = \"X-Account-Id\"\n"
         "\n"
         "[[attribution.account]]\n"
         "type = \"path\"\n"
         "template = \"/v1/accounts/{account}/...\"\n"
         "\n"
         "[[attribution.account]]\n"
         "type = \"query\"\n"
         "name = \"account\"\n"
         "\n"
         "[[attribution.account]]\n"
         "type = \"jwt\"\n"
         "claim = \"account\"\n"
         "principal_claim = \"sub\"\n"
         "\n"
         "[[attribution.account]]\n"
         "type = \"api_key\"\n"
         "header = \"X-Api-Key\"\n"
         "key_file = " +
         toml_string(key_file) + "\n";
}

Status generate_capture(const GeneratorOptions& options, GeneratorSummary& summary) {
  if (!options.config_path.empty() && options.keys_path.empty()) {
    return Status::error("the agent config names the API-key file: give keys_path too");
  }
  if (options.idle_connections > GeneratorOptions::kMaxIdleConnections) {
    return Status::error("at most " + std::to_string(GeneratorOptions::kMaxIdleConnections) + " idle connections");
  }
  SeededRandom random(options.seed);
  TrafficPopulation population(random);
  RequestFactory requests(population, random);
  PcapFileWriter pcap;
  GroundTruthWriter truth;
  if (Status s = pcap.open(options.pcap_path); !s) return s;
  if (Status s = truth.open(options.truth_path); !s) return s;

  GenerationContext ctx{pcap, truth, random, population, requests, kCaptureStartUs};
  Gateway gateway;
  open_idle_connections(ctx, gateway, options.seed, options.idle_connections);
  std::uint64_t unplanned = options.requests;
  std::vector<std::unique_ptr<SimulatedConnection>> active;
  active.reserve(kConcurrentConnections);
  while (unplanned > 0 || !active.empty()) {
    while (unplanned > 0 && active.size() < kConcurrentConnections) {
      active.push_back(std::make_unique<SimulatedConnection>(plan_connection(ctx, gateway, unplanned)));
    }
    const std::size_t i = random.below(static_cast<std::uint32_t>(active.size()));
    if (!active[i]->step(ctx)) {
      active[i] = std::move(active.back());
      active.pop_back();
    }
  }

  if (Status s = pcap.close(); !s) return s;
  if (Status s = truth.close(); !s) return s;
  if (!options.keys_path.empty()) {
    if (Status s = write_text_file(options.keys_path, population.key_file_text()); !s) return s;
  }
  if (!options.config_path.empty()) {
    const std::string key_file = std::filesystem::absolute(options.keys_path).lexically_normal().string();
    if (Status s = write_text_file(options.config_path, agent_config_text(key_file)); !s) return s;
  }
  summary.packets = pcap.packets();
  summary.bytes = pcap.bytes();
  summary.requests = truth.rows();
  return Status::ok();
}

}  // namespace ipattrib::bench
