// RequestFactory: builds the bytes of one realistic API-gateway HTTP/1.x
// request (head and body) together with what the agent must report for it —
// the ground truth. Each request carries its account in one way (header, path,
// query, JWT, API key, or none), so every account rule of the agent is used.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/generator/seeded_random.h"
#include "bench/generator/traffic_population.h"

namespace ipattrib::bench {

struct RequestTruth {
  std::string client_ip;
  std::string_view method;
  std::string host;
  std::string target;
  std::string account;    // "-" when no rule can match
  std::string principal;  // "-" when no rule gives one
  bool admin = false;
};

struct GeneratedRequest {
  std::string wire;  // head followed by body
  std::size_t head_length = 0;
  RequestTruth truth;
};

class RequestFactory {
 public:
  RequestFactory(const TrafficPopulation& population, SeededRandom& random) : population_(population), random_(random) {}

  // `peer_is_proxy`: the request reaches the gateway through the trusted proxy,
  // which names `client` in a forwarding header.
  void make(const SimulatedClient& client, bool peer_is_proxy, std::uint16_t server_port, GeneratedRequest& out);

 private:
  enum class AccountCarrier { kHeader, kPath, kQuery, kJwt, kApiKey, kUnknownApiKey, kNone };

  AccountCarrier pick_carrier();
  void append_target(AccountCarrier carrier, const std::string& account, std::string& target);
  void append_forwarding_header(const SimulatedClient& client, std::string& head);
  void append_jwt(const std::string& account, const std::string& principal, std::string& head);
  void make_body();   // into body_
  void chunk_body();  // rewrites body_ in chunked transfer coding
  void append_random_token(std::size_t length, std::string& out);

  const TrafficPopulation& population_;
  SeededRandom& random_;
  std::string body_;
};

}  // namespace ipattrib::bench
