// Packet-to-alert latency: how long after a request from a sanctioned
// jurisdiction leaves the client does the SOC's webhook hear of it. Runs the
// real pipeline on this host: ipattrib-agent capturing LIVE on `lo` (default
// 1 s flush window, geo from a database this program writes that places
// 198.18.77.0/24 in Iran), ipattrib-collector with the repo's default policy
// and a webhook sink, a local HTTP server standing in for the cloud API, and
// a webhook receiver here recording arrival times. N requests, each from a
// new account, are sent from 198.18.77.10 (added to `lo` for the run) at
// random intervals; latency = webhook arrival - request send, same clock.
// Needs root (live capture, `ip addr add`).
//
//   alert_latency [--requests N] [--spacing-ms MS] [--work-dir DIR]
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ipattrib/ip_address.h"
#include "tests/support/mmdb_writer.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ipattrib::Cidr;
using ipattrib::test_support::MmdbValue;
using ipattrib::test_support::MmdbWriter;

constexpr const char* kClientIp = "198.18.77.10";
constexpr const char* kIranNetwork = "198.18.77.0/24";
constexpr const char* kSecret = "alert-latency-bench-secret";

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_for(const std::function<bool()>& condition, int seconds) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

// One request on its own connection from kClientIp; false on any failure.
bool send_request(int port, const std::string& account, Clock::time_point& sent) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, kClientIp, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
            ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0;
  const std::string request = "GET /v1/instances HTTP/1.1\r\nHost: api.bench\r\nX-Account-Id: " + account +
                              "\r\nConnection: close\r\n\r\n";
  if (ok) {
    sent = Clock::now();  // the request head leaves in this one write
    ok = ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size());
  }
  char buffer[1024];
  while (ok && ::read(fd, buffer, sizeof buffer) > 0) {
  }
  ::close(fd);
  return ok;
}

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

// "2026-11-23T09:00:00.123Z" -> seconds since the epoch; 0 when malformed.
double epoch_seconds(const std::string& rfc3339) {
  struct tm utc {};
  int ms = 0;
  if (std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &ms) != 7) {
    return 0;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return static_cast<double>(timegm(&utc)) + ms / 1000.0;
}

int usage() {
  std::fprintf(stderr, "usage: alert_latency [--requests N] [--spacing-ms MAX] [--work-dir DIR]   (run as root)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int requests = 200;
  int spacing_ms = 100;  // each gap uniform in [0, spacing_ms]: sends land at every phase of the flush window
  fs::path work = "/tmp/ipattrib-alert-latency";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--requests") requests = std::atoi(argv[++i]);
    else if (arg == "--spacing-ms") spacing_ms = std::atoi(argv[++i]);
    else if (arg == "--work-dir") work = argv[++i];
    else return usage();
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "alert_latency: needs root (live capture on lo, ip addr add)\n");
    return 1;
  }
  fs::remove_all(work);
  fs::create_directories(work);
  const std::string source = IPATTRIB_SOURCE_DIR;
  if (std::system(("bash " + source + "/scripts/make-pki.sh " + (work / "pki").string() +
                   " --agent bench-agent >/dev/null 2>&1").c_str()) != 0) {
    std::fprintf(stderr, "alert_latency: make-pki.sh failed\n");
    return 1;
  }
  {
    MmdbWriter city;
    auto iso = [](const char* code) { return MmdbValue::map({{"iso_code", code}}); };
    city.add(*Cidr::parse(kIranNetwork), MmdbValue::map({{"country", iso("IR")}, {"registered_country", iso("IR")}}));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    if (!city.write((work / "city.mmdb").string(), "GeoIP2-City", static_cast<std::uint64_t>(now)).is_ok()) return 1;
  }
  std::ofstream(work / "webhook.secret") << kSecret << "\n";

  // The webhook receiver: arrival time per account.
  std::mutex mutex;
  std::map<std::string, Clock::time_point> arrived;
  // Where the time goes, from the alert document: capture (first_access,
  // the packet's time) -> stored (created, collector's clock) -> webhook.
  std::vector<double> capture_to_stored, stored_to_webhook;
  httplib::Server receiver;
  receiver.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    const auto now = Clock::now();
    const double wall_now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const nlohmann::json alert = nlohmann::json::parse(req.body, nullptr, false);
    if (alert.is_object() && alert["account"].is_string()) {
      std::lock_guard<std::mutex> lock(mutex);
      arrived.emplace(alert["account"].get<std::string>(), now);
      const double first = epoch_seconds(alert.value("first_access", ""));
      const double created = epoch_seconds(alert.value("created", ""));
      if (first > 0 && created > 0) {
        capture_to_stored.push_back(created - first);
        stored_to_webhook.push_back(wall_now - created);
      }
    }
    res.status = 204;
  });
  const int webhook_port = receiver.bind_to_any_port("127.0.0.1");
  std::thread receiver_thread([&] { receiver.listen_after_bind(); });
  // The "cloud API" the requests go to.
  httplib::Server api;
  api.Get(".*", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  const int api_port = api.bind_to_any_port("0.0.0.0");
  std::thread api_thread([&] { api.listen_after_bind(); });

  const int ingest_port = free_port();
  const int query_port = free_port();
  const std::string pki = (work / "pki").string();
  std::ofstream(work / "collector.toml")
      << "[ledger]\nsqlite_path = \"" << (work / "ledger.sqlite3").string() << "\"\n"
      << "[ingest]\nlisten = \"127.0.0.1:" << ingest_port << "\"\ntls_ca = \"" << pki << "/ca.crt\"\n"
      << "tls_cert = \"" << pki << "/collector.crt\"\ntls_key = \"" << pki << "/collector.key\"\n"
      << "allowed_agents = [\"bench-agent\"]\n"
      << "[api]\nlisten = \"127.0.0.1:" << query_port << "\"\n"
      << "[policy]\npath = \"" << source << "/config/special-measures.toml\"\n"
      << "[[alerts.webhook]]\nname = \"soc\"\nurl = \"http://127.0.0.1:" << webhook_port << "/hook\"\n"
      << "secret_file = \"" << (work / "webhook.secret").string() << "\"\n";
  std::ofstream(work / "agent.toml")
      << "[agent]\nid = \"bench-agent\"\ngateway = \"gw-bench\"\n"
      << "[ship]\ncollectors = [\"127.0.0.1:" << ingest_port << "\"]\ntls_ca = \"" << pki << "/ca.crt\"\n"
      << "tls_cert = \"" << pki << "/agents/bench-agent.crt\"\ntls_key = \"" << pki << "/agents/bench-agent.key\"\n"
      << "spool_dir = \"" << (work / "spool").string() << "\"\n"  // flush_window_ms: the default, 1000
      << "[[geo.database]]\npath = \"" << (work / "city.mmdb").string() << "\"\n";

  const bool address_added = std::system((std::string("ip addr add ") + kClientIp + "/32 dev lo 2>/dev/null").c_str()) == 0;
  const pid_t collector = spawn({IPATTRIB_COLLECTOR_BIN, "--config", (work / "collector.toml").string()},
                                work / "collector.log");
  const bool collector_up = wait_for([&] {
    httplib::Client http("127.0.0.1", query_port);
    auto res = http.Get("/healthz");
    return res && res->status == 200;
  }, 30);
  const std::string port_text = std::to_string(api_port);
  const pid_t agent = spawn({IPATTRIB_AGENT_BIN, "--config", (work / "agent.toml").string(), "--interface", "lo",
                             "--filter", "tcp port " + port_text, "--ports", port_text, "--account-header",
                             "X-Account-Id"},
                            work / "agent.log");
  const bool agent_up = wait_for([&] { return read_file(work / "agent.log").find("reading interface lo") != std::string::npos; }, 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // capture active, first connection to the collector

  std::map<std::string, Clock::time_point> sent;
  int failed_sends = 0;
  if (collector_up && agent_up) {
    std::mt19937 random(20261123);
    std::uniform_int_distribution<int> gap(0, spacing_ms);
    for (int i = 0; i < requests; ++i) {
      char account[32];
      std::snprintf(account, sizeof account, "lat-%05d", i);
      Clock::time_point at;
      if (send_request(api_port, account, at)) sent.emplace(account, at);
      else ++failed_sends;
      std::this_thread::sleep_for(std::chrono::milliseconds(gap(random)));
    }
    wait_for([&] {
      std::lock_guard<std::mutex> lock(mutex);
      return arrived.size() >= sent.size();
    }, 30);
  }

  stop(agent);
  stop(collector);
  receiver.stop();
  api.stop();
  receiver_thread.join();
  api_thread.join();
  if (address_added) std::system((std::string("ip addr del ") + kClientIp + "/32 dev lo 2>/dev/null").c_str());
  if (!collector_up || !agent_up) {
    std::fprintf(stderr, "alert_latency: %s did not start; see %s\n", collector_up ? "the agent" : "the collector",
                 work.c_str());
    return 1;
  }

  std::vector<double> seconds;
  for (const auto& [account, at] : sent) {
    const auto it = arrived.find(account);
    if (it != arrived.end()) seconds.push_back(std::chrono::duration<double>(it->second - at).count());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("packet-to-alert of %zu requests from %s (IR), agent live on lo with flush_window_ms=1000, default "
              "policy, webhook sink: %zu alerts received, %zu missing, %d sends failed\n",
              sent.size(), kClientIp, seconds.size(), sent.size() - seconds.size(), failed_sends);
  std::printf("latency request->webhook: p50 %.3f s   p99 %.3f s   max %.3f s   min %.3f s   (target p99 <= 2 s)\n",
              percentile(seconds, 50), percentile(seconds, 99), seconds.empty() ? 0.0 : seconds.back(),
              seconds.empty() ? 0.0 : seconds.front());
  std::sort(capture_to_stored.begin(), capture_to_stored.end());
  std::sort(stored_to_webhook.begin(), stored_to_webhook.end());
  std::printf("where it goes (p50 / p99): packet captured -> alert stored %.3f / %.3f s   stored -> webhook %.3f / "
              "%.3f s\n",
              percentile(capture_to_stored, 50), percentile(capture_to_stored, 99), percentile(stored_to_webhook, 50),
              percentile(stored_to_webhook, 99));
  return seconds.size() == sent.size() && !sent.empty() ? 0 : 1;
}
