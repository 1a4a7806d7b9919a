// The world alerts_e2e_test sets up and checks against: where its geo
// database places the generator's client networks, the alerts the ground
// truth implies under the default policy, a webhook receiver that verifies
// signatures, and small process/file helpers. Header-only: one test uses it.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "ipattrib/ip_address.h"
#include "tests/support/child_process.h"
#include "tests/support/mmdb_writer.h"

namespace ipattrib::alerts_e2e {

namespace fs = std::filesystem;
using test_support::ChildProcess;
using test_support::eventually;
using test_support::free_port;
using test_support::run;
using nlohmann::json;
using test_support::MmdbValue;
using test_support::MmdbWriter;

// printf %s test-token | sha256sum
inline constexpr const char* kToken = "test-token";
inline constexpr const char* kTokenSha256 = "4c5dc9b7708905f77f5e5d16316b5dfb425e68cb326dcd55a860e90a7707031e";
inline constexpr const char* kWebhookSecret = "e2e-webhook-secret-7f3a9c";

// Where the test's geo database places the generator's clients (the
// generator draws from 198.18.0.0/15, 100.64.0.0/10, 203.0.113.0/24 and
// 2001:db8:1000::-2001:db8:efff::/48s); everything else is in Germany.
inline const Cidr kIranBlock = *Cidr::parse("198.18.0.0/16");
inline const Cidr kCrimeaBlock = *Cidr::parse("2001:db8:1000::/36");
inline const Cidr kRussiaBlock = *Cidr::parse("100.64.0.0/12");

inline constexpr const char* kIranMeasure = "us-comprehensive-iran";
inline constexpr const char* kCrimeaMeasure = "us-comprehensive-crimea";
inline constexpr const char* kRussiaMeasure = "foreign-adversary-russia";

// ---------------------------------------------------------------------------
// Helpers: processes, files, time.

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".new";
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

inline std::string rfc3339_ms(std::int64_t epoch_ms) {
  const time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm utc {};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(epoch_ms % 1000));
  return text;
}

inline std::string canonical_ip(const std::string& text) {
  const auto ip = IpAddress::parse(text);
  return ip ? ip->to_string() : "unparseable:" + text;
}

inline std::string hmac_sha256_hex(const std::string& key, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

// ---------------------------------------------------------------------------
// The webhook receiver: checks the signature over the exact body bytes,
// answers 500 while it is "down" or for its first `fail_first` requests.
class WebhookReceiver {
 public:
  explicit WebhookReceiver(int fail_first) : fail_first_(fail_first) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) { receive(req, res); });
    port_ = static_cast<std::uint16_t>(server_.bind_to_any_port("127.0.0.1"));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  void set_down(bool down) {
    std::lock_guard<std::mutex> lock(mutex_);
    down_ = down;
  }

  struct Tally {
    int requests = 0;
    int refused = 0;          // answered 500 on purpose
    int bad_signatures = 0;   // must stay 0
    int malformed = 0;        // must stay 0: not JSON, or id and header disagree
    std::map<std::int64_t, int> deliveries;  // alert id -> accepted deliveries
    std::map<std::int64_t, json> alerts;     // alert id -> body
  };
  Tally tally() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tally_;
  }

 private:
  void receive(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++tally_.requests;
    if (down_ || tally_.requests <= fail_first_) {
      ++tally_.refused;
      res.status = 500;
      return;
    }
    const std::string expected = "sha256=" + hmac_sha256_hex(kWebhookSecret, req.body);
    const std::string got = req.get_header_value("X-Ipattrib-Signature");
    if (got.size() != expected.size() || CRYPTO_memcmp(got.data(), expected.data(), got.size()) != 0) {
      ++tally_.bad_signatures;
      res.status = 401;
      return;
    }
    json doc = json::parse(req.body, nullptr, false);
    if (!doc.is_object() || !doc["id"].is_number_integer() ||
        req.get_header_value("X-Ipattrib-Alert-Id") != std::to_string(doc["id"].get<std::int64_t>()) ||
        req.get_header_value("Content-Type") != "application/json") {
      ++tally_.malformed;
      res.status = 400;
      return;
    }
    const std::int64_t id = doc["id"];
    ++tally_.deliveries[id];
    tally_.alerts[id] = std::move(doc);
    res.status = 204;
  }

  const int fail_first_;
  httplib::Server server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  bool down_ = false;
  Tally tally_;
};

// ---------------------------------------------------------------------------
// Ground truth and the alerts it implies.

// (measure id, account, client ip).
using AlertKey = std::tuple<std::string, std::string, std::string>;

struct ExpectedAlert {
  std::string severity;
  std::string reason;  // contained in the alert's reason
  std::uint64_t count = 0;
  std::int64_t first_ms = LLONG_MAX;
  std::int64_t last_ms = LLONG_MIN;
};

struct Truth {
  // account -> "ip class" -> access times (ms), for the ledger check.
  std::map<std::string, std::map<std::string, std::vector<std::int64_t>>> ledger;
  std::size_t shipped = 0;        // attributed requests (the agent ships those only)
  std::size_t in_germany = 0;     // attributed requests from outside every sanctioned block
  std::map<AlertKey, ExpectedAlert> alerts;  // every measure of the default policy
};

inline Truth read_truth(const fs::path& tsv) {
  Truth truth;
  std::ifstream in(tsv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, '\t');) f.push_back(field);
    if (f.size() < 12) {
      ADD_FAILURE() << "short truth row: " << line;
      continue;
    }
    if (f[9] == "-") continue;  // no account: not shipped
    const std::string& account = f[9];
    const std::string ip = canonical_ip(f[1]);
    const std::int64_t ms = std::stoll(f[0]) / 1000;  // the ledger keeps milliseconds
    truth.ledger[account][ip + " " + f[11]].push_back(ms);
    ++truth.shipped;
    const IpAddress address = *IpAddress::parse(ip);
    const char* measure = nullptr;
    const char* severity = nullptr;
    const char* reason = nullptr;
    if (kIranBlock.contains(address)) {
      measure = kIranMeasure, severity = "critical", reason = "country IR";
    } else if (kCrimeaBlock.contains(address)) {
      measure = kCrimeaMeasure, severity = "critical", reason = "subdivision UA-43";
    } else if (kRussiaBlock.contains(address)) {
      measure = kRussiaMeasure, severity = "high", reason = "country RU";
    }
    if (measure == nullptr) {
      ++truth.in_germany;
      continue;
    }
    ExpectedAlert& e = truth.alerts[{measure, account, ip}];
    e.severity = severity;
    e.reason = reason;
    ++e.count;
    e.first_ms = std::min(e.first_ms, ms);
    e.last_ms = std::max(e.last_ms, ms);
  }
  for (auto& [account, by_ip] : truth.ledger) {
    for (auto& [key, times] : by_ip) std::sort(times.begin(), times.end());
  }
  return truth;
}

inline std::map<AlertKey, ExpectedAlert> without_measure(const std::map<AlertKey, ExpectedAlert>& all,
                                                  const std::string& measure) {
  std::map<AlertKey, ExpectedAlert> kept;
  for (const auto& [key, e] : all) {
    if (std::get<0>(key) != measure) kept.emplace(key, e);
  }
  return kept;
}

inline std::size_t of_measure(const std::map<AlertKey, ExpectedAlert>& alerts, const std::string& measure) {
  return static_cast<std::size_t>(std::count_if(alerts.begin(), alerts.end(),
                                                [&](const auto& a) { return std::get<0>(a.first) == measure; }));
}

// A GeoIP2-City-shaped database: Germany everywhere the generator draws
// clients from, then (added later, so they win) the sanctioned blocks.
inline void write_geo_database(const std::string& path) {
  auto iso = [](const char* code) { return MmdbValue::map({{"iso_code", code}}); };
  auto located = [&](const char* country) {
    return MmdbValue::map({{"country", iso(country)}, {"registered_country", iso(country)}});
  };
  MmdbWriter city;
  for (const char* network : {"198.18.0.0/15", "100.64.0.0/10", "203.0.113.0/24", "2001:db8::/32"}) {
    city.add(*Cidr::parse(network), located("DE"));
  }
  city.add(kIranBlock, located("IR"));
  city.add(kRussiaBlock, located("RU"));
  city.add(kCrimeaBlock, MmdbValue::map({{"country", iso("UA")},
                                         {"registered_country", iso("UA")},
                                         {"subdivisions", MmdbValue::array({iso("43")})}}));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  Status s = city.write(path, "GeoIP2-City", static_cast<std::uint64_t>(now_s));
  ASSERT_TRUE(s.is_ok()) << s.message();
}

// The repo's default policy without one measure's [[measure]] table.
inline std::string policy_without(const std::string& policy, const std::string& measure_id) {
  const std::string head = "[[measure]]\nid = \"" + measure_id + "\"";
  const std::size_t begin = policy.find(head);
  if (begin == std::string::npos) return policy;
  std::size_t end = policy.find("\n[[measure]]", begin + head.size());
  const std::size_t comment = policy.find("\n# ---", begin + head.size());
  end = std::min(end, comment);
  return policy.substr(0, begin) + policy.substr(end == std::string::npos ? policy.size() : end + 1);
}

}  // namespace ipattrib::alerts_e2e
