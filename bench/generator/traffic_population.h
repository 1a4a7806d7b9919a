// TrafficPopulation: who the generated traffic comes from and on whose
// behalf — client addresses (IPv4 and IPv6 in documentation/benchmark
// ranges), customer accounts, and one API key per account. Drawn once from
// the seed so every run with that seed sees the same population.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/generator/seeded_random.h"

namespace ipattrib::bench {

struct HostAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  std::string text;                      // as inet_ntop writes it (what the agent prints)

  static HostAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  static HostAddress from_bytes(bool v6, const std::uint8_t* bytes);
};

struct SimulatedClient {
  HostAddress address;
  std::uint32_t home_account = 0;  // the account it usually acts for
  std::uint16_t next_port = 0;     // ephemeral port counter, so its flows never share a 4-tuple
};

class TrafficPopulation {
 public:
  static constexpr std::uint32_t kAccounts = 2000;
  static constexpr std::uint32_t kClients = 6000;

  explicit TrafficPopulation(SeededRandom& random);

  std::vector<SimulatedClient>& clients() { return clients_; }
  static std::string account_id(std::uint32_t account);  // "acct-0042"
  const std::string& api_key(std::uint32_t account) const { return api_keys_[account]; }

  // "<sha256 hex of key> <account>" per line, the agent's api_key key_file.
  std::string key_file_text() const;

 private:
  std::vector<SimulatedClient> clients_;
  std::vector<std::string> api_keys_;
};

}  // namespace ipattrib::bench
