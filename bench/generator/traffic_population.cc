#include "bench/generator/traffic_population.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstring>
#include <set>

namespace ipattrib::bench {
namespace {

constexpr char kKeyAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

HostAddress random_client_address(SeededRandom& random) {
  std::uint8_t b[16] = {};
  const std::uint32_t r = random.next_u32();
  const std::uint32_t pick = random.below(100);
  if (pick < 30) {  // 2001:db8:XXXX::/48 below 2001:db8:ffff::, where the gateways live
    b[0] = 0x20, b[1] = 0x01, b[2] = 0x0d, b[3] = 0xb8;
    const std::uint32_t subnet = random.between(0x1000, 0xefff);
    b[4] = static_cast<std::uint8_t>(subnet >> 8), b[5] = static_cast<std::uint8_t>(subnet);
    const std::uint64_t host = random.next();
    // Mostly full interface ids; some short ones so "::" compression shows up.
    const int host_bytes = random.percent(30) ? 2 : 8;
    for (int i = 0; i < host_bytes; ++i) b[15 - i] = static_cast<std::uint8_t>(host >> (8 * i));
    if (host_bytes == 2 && b[15] == 0 && b[14] == 0) b[15] = 1;
    return HostAddress::from_bytes(true, b);
  }
  if (pick < 60) {  // 198.18.0.0/15
    b[0] = 198, b[1] = static_cast<std::uint8_t>(18 + (r & 1)), b[2] = static_cast<std::uint8_t>(r >> 8);
    b[3] = static_cast<std::uint8_t>(1 + (r >> 16) % 254);
  } else if (pick < 65) {  // 203.0.113.0/24
    b[0] = 203, b[1] = 0, b[2] = 113, b[3] = static_cast<std::uint8_t>(1 + r % 254);
  } else {  // 100.64.0.0/10
    b[0] = 100, b[1] = static_cast<std::uint8_t>(64 + (r & 63)), b[2] = static_cast<std::uint8_t>(r >> 8);
    b[3] = static_cast<std::uint8_t>(1 + (r >> 16) % 254);
  }
  return HostAddress::from_bytes(false, b);
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  return hex;
}

}  // namespace

HostAddress HostAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  const std::uint8_t bytes[4] = {a, b, c, d};
  return from_bytes(false, bytes);
}

HostAddress HostAddress::from_bytes(bool v6, const std::uint8_t* bytes) {
  HostAddress a;
  a.v6 = v6;
  std::memcpy(a.bytes.data(), bytes, v6 ? 16 : 4);
  char text[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, a.bytes.data(), text, sizeof(text));
  a.text = text;
  return a;
}

TrafficPopulation::TrafficPopulation(SeededRandom& random) {
  std::set<std::array<std::uint8_t, 16>> seen;
  clients_.reserve(kClients);
  while (clients_.size() < kClients) {
    SimulatedClient c;
    c.address = random_client_address(random);
    if (!seen.insert(c.address.bytes).second) continue;
    c.home_account = random.below(kAccounts);
    c.next_port = static_cast<std::uint16_t>(random.between(32768, 60999));
    clients_.push_back(std::move(c));
  }
  api_keys_.reserve(kAccounts);
  for (std::uint32_t i = 0; i < kAccounts; ++i) {
    std::string key = "ak_";
    for (int j = 0; j < 37; ++j) key.push_back(kKeyAlphabet[random.below(sizeof(kKeyAlphabet) - 1)]);
    api_keys_.push_back(std::move(key));
  }
}

std::string TrafficPopulation::account_id(std::uint32_t account) { return fmt::format("acct-{:04}", account); }

std::string TrafficPopulation::key_file_text() const {
  std::string text;
  for (std::uint32_t i = 0; i < kAccounts; ++i) {
    text += sha256_hex(api_keys_[i]);
    text += ' ';
    text += account_id(i);
    text += '\n';
  }
  return text;
}

}  // namespace ipattrib::bench
