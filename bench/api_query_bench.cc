// Query latency through the HTTP API next to the same queries on the store
// directly, on an existing ledger (made by ledger_bench): account history
// and the reverse IP/network lookup, p50/p99 over keep-alive HTTP/1.1 with a
// bearer token, as ipattribctl and dashboards see it. Prints; asserts nothing.
//
//   api_query_bench LEDGER.sqlite3     (bench/query_latency.sh makes one of 10M accesses)
#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collector/api/api_server.h"
#include "collector/api/query_api.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"

namespace ipattrib::collector {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kQueries = 1000;
constexpr const char* kToken = "bench-token";
// printf %s bench-token | sha256sum
constexpr const char* kTokenSha256 = "7137e16f75a1d75b6fd65930672814806cdc1a0d6e0aa38611afc996a402258b";

struct Percentiles {
  double p50_us = 0, p99_us = 0;
};

template <typename F>
Percentiles time_queries(F&& query) {
  std::vector<double> us;
  for (int i = 0; i < kQueries; ++i) {
    const auto start = Clock::now();
    query(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

std::string account_id(std::size_t i) { return fmt::format("acct-{:08d}", i); }

// ledger_bench names accounts acct-00000000.. densely: find how many exist.
std::size_t count_accounts(LedgerStore& store) {
  auto exists = [&](std::size_t i) {
    bool found = false;
    return store.account_exists(account_id(i), found) && found;
  };
  std::size_t high = 1;
  while (exists(high)) high *= 2;
  std::size_t low = high / 2;  // exists(low) unless high == 1
  while (high - low > 1) {
    const std::size_t mid = (low + high) / 2;
    (exists(mid) ? low : high) = mid;
  }
  return high;
}

struct Probe {
  std::string account;
  std::string ip;
};

int run(const std::string& path) {
  std::unique_ptr<LedgerStore> store;
  if (Status s = open_sqlite_ledger_store({path}, store); !s) {
    fmt::print(stderr, "{}: {}\n", path, s.message());
    return 1;
  }
  const std::size_t accounts = count_accounts(*store);
  std::mt19937_64 rng(11);
  std::vector<Probe> probes;
  for (int i = 0; i < kQueries; ++i) {
    Probe probe{account_id(rng() % accounts), ""};
    AccountIpsQuery query;
    query.account = probe.account;
    Page<IpSummary> page;
    if (store->account_ips(query, page) && !page.items.empty()) probe.ip = page.items[0].ip.to_string();
    probes.push_back(probe);
  }

  ApiConfig config;
  config.token_sha256 = {kTokenSha256};
  QueryApi api(*store, config);
  std::unique_ptr<httplib::Server> server;
  if (Status s = make_api_server(config, server); !s) {  // the collector's own server settings
    fmt::print(stderr, "{}\n", s.message());
    return 1;
  }
  api.register_routes(*server);
  const int port = server->bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server->listen_after_bind(); });
  while (!server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_bearer_token_auth(kToken);

  auto over_http = [&](const std::string& target) {
    auto res = client.Get(target);
    if (!res || (res->status != 200 && res->status != 404)) fmt::print(stderr, "GET {} failed\n", target);
  };
  struct Case {
    const char* name;
    std::function<void(int)> direct;
    std::function<void(int)> http;
  };
  const std::vector<Case> cases = {
      {"account -> IPs (all time)",
       [&](int i) {
         AccountIpsQuery q;
         q.account = probes[i].account;
         Page<IpSummary> page;
         store->account_ips(q, page);
       },
       [&](int i) { over_http("/v1/accounts/" + probes[i].account + "/ips"); }},
      {"account -> accesses, page of 100",
       [&](int i) {
         AccountAccessesQuery q;
         q.account = probes[i].account;
         q.limit = 100;
         AccessPage page;
         store->account_accesses(q, page);
       },
       [&](int i) { over_http("/v1/accounts/" + probes[i].account + "/accesses?limit=100"); }},
      {"IP -> accounts",
       [&](int i) {
         NetworkAccountsQuery q;
         const IpAddress ip = *IpAddress::parse(probes[i].ip);
         q.network = Cidr{ip, static_cast<std::uint8_t>(ip.is_v4() ? 32 : 128)};
         Page<IpSummary> page;
         store->network_accounts(q, page);
       },
       [&](int i) { over_http("/v1/ips/" + probes[i].ip + "/accounts"); }},
      {"network /24 -> accounts, page of 1000",
       [&](int i) {
         NetworkAccountsQuery q;
         q.network = *Cidr::parse(fmt::format("10.0.{}.0/24", (i * 37) % 16));
         Page<IpSummary> page;
         store->network_accounts(q, page);
       },
       [&](int i) { over_http(fmt::format("/v1/ips/10.0.{}.0%2F24/accounts", (i * 37) % 16)); }},
  };
  fmt::print("api_query_bench: {} accounts in {}, {} queries per line (random accounts)\n", accounts, path, kQueries);
  fmt::print("  {:<40} {:>22}   {:>22}\n", "", "store (direct call)", "HTTP API (keep-alive)");
  for (const Case& c : cases) {
    const Percentiles direct = time_queries(c.direct);
    const Percentiles http = time_queries(c.http);
    fmt::print("  {:<40} p50 {:>6.0f} p99 {:>6.0f} us   p50 {:>6.0f} p99 {:>6.0f} us\n", c.name, direct.p50_us,
               direct.p99_us, http.p50_us, http.p99_us);
  }
  server->stop();
  thread.join();
  return 0;
}

}  // namespace
}  // namespace ipattrib::collector

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: api_query_bench LEDGER.sqlite3\n");
    return 2;
  }
  return ipattrib::collector::run(argv[1]);
}
