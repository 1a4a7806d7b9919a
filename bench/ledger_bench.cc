// Ledger benchmark: ingest rate of the SQLite LedgerStore with realistic
// agent batches, then query latency (p50/p99) of account history and reverse
// IP/network lookups on the resulting ledger. Prints figures; asserts nothing.
//
//   ledger_bench [ACCESSES [PATH]]   default 1000000 accesses, a temp file
//
// The figure is for 10 million accesses: `ledger_bench 10000000`.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "collector/ledger/sqlite/sqlite_ledger_store.h"

namespace ipattrib::collector {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kAgents = 4;
constexpr int kRecordsPerBatch = 200;  // one agent's flush window under load
constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::int64_t kSpanMs = 30LL * 24 * 3600 * 1000;  // a month of traffic

struct Account {
  std::string id;
  std::vector<IpAddress> ips;
};

std::vector<Account> make_accounts(std::size_t count, std::mt19937_64& rng) {
  std::vector<Account> accounts(count);
  for (std::size_t i = 0; i < count; ++i) {
    accounts[i].id = fmt::format("acct-{:08d}", i);
    const int ips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < ips; ++k) {
      if (rng() % 5 == 0) {
        std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
        for (int j = 4; j < 16; ++j) b[j] = static_cast<std::uint8_t>(rng());
        accounts[i].ips.push_back(IpAddress::from_v6_bytes(b));
      } else {
        // 4096 /24 networks, so a /24 lookup finds several accounts.
        accounts[i].ips.push_back(IpAddress::from_v4(0x0a000000u | static_cast<std::uint32_t>((rng() % 4096) << 8) |
                                                     static_cast<std::uint32_t>(rng() % 256)));
      }
    }
  }
  return accounts;
}

// Skewed account popularity: a few accounts make most requests.
std::size_t pick_account(std::size_t count, std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  return std::min(count - 1, static_cast<std::size_t>(static_cast<double>(count) * u * u * u));
}

RecordBatch make_batch(int agent, std::uint64_t sequence, std::int64_t window_ms, const std::vector<Account>& accounts,
                       std::mt19937_64& rng, std::uint64_t& accesses) {
  RecordBatch batch;
  batch.agent_id = fmt::format("agent-{}", agent);
  batch.sequence = sequence;
  batch.records.resize(kRecordsPerBatch);
  for (AttributionRecord& r : batch.records) {
    const Account& account = accounts[pick_account(accounts.size(), rng)];
    r.account = account.id;
    r.client_ip = account.ips[rng() % account.ips.size()];
    r.access_class = rng() % 10 == 0 ? RecordClass::kAdmin : RecordClass::kAccess;
    r.gateway = fmt::format("gw-{}", agent);
    r.geo.country = "US";
    r.geo.asn = 64500;
    const int n = 1 + static_cast<int>(rng() % 9);
    std::int64_t t = window_ms + static_cast<std::int64_t>(rng() % 500);
    for (int i = 0; i < n; ++i) r.access_times_ms.push_back(t += static_cast<std::int64_t>(rng() % 50));
    accesses += static_cast<std::uint64_t>(n);
  }
  return batch;
}

struct Percentiles {
  double p50_us = 0, p99_us = 0, max_us = 0;
};

Percentiles percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * static_cast<double>(us.size())))];
  };
  return {at(0.50), at(0.99), us.back()};
}

template <typename F>
Percentiles time_queries(int count, F&& query) {
  std::vector<double> us;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    query(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return percentiles(us);
}

void print(const char* name, const Percentiles& p, double average_items) {
  fmt::print("  {:<44} p50 {:>9.1f} us   p99 {:>9.1f} us   max {:>9.1f} us   ({:.1f} rows/query)\n", name, p.p50_us,
             p.p99_us, p.max_us, average_items);
}

int run(std::uint64_t target_accesses, std::string path) {
  std::mt19937_64 rng(7);
  const std::size_t account_count = std::max<std::size_t>(1000, target_accesses / 1000);
  const auto accounts = make_accounts(account_count, rng);
  std::unique_ptr<LedgerStore> store;
  SqliteLedgerOptions options;
  options.path = path;
  if (Status s = open_sqlite_ledger_store(options, store); !s) {
    fmt::print(stderr, "{}\n", s.message());
    return 1;
  }

  // Ingest: agents take turns; time advances evenly over a month.
  const std::uint64_t batches = std::max<std::uint64_t>(1, target_accesses / (kRecordsPerBatch * 5));
  std::uint64_t accesses = 0, records = 0;
  std::vector<std::uint64_t> sequence(kAgents, 0);
  double apply_seconds = 0;
  std::vector<double> apply_us;
  for (std::uint64_t b = 0; b < batches; ++b) {
    const int agent = static_cast<int>(b % kAgents);
    const std::int64_t window =
        kStartMs + static_cast<std::int64_t>(b) * (kSpanMs / static_cast<std::int64_t>(batches));
    const RecordBatch batch = make_batch(agent, ++sequence[agent], window, accounts, rng, accesses);
    records += batch.records.size();
    ApplyResult result;
    const auto start = Clock::now();
    Status s = store->apply_batch(batch, result);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    apply_seconds += us / 1e6;
    apply_us.push_back(us);
    if (!s) {
      fmt::print(stderr, "apply_batch: {}\n", s.message());
      return 1;
    }
  }
  store.reset();  // checkpoints the WAL into the main file
  const auto bytes = std::filesystem::file_size(path);
  const Percentiles apply = percentiles(apply_us);
  fmt::print("ledger_bench: SQLite (WAL, synchronous=FULL), {} accounts, {} agents, {} records/batch\n", account_count,
             kAgents, kRecordsPerBatch);
  fmt::print("ingest: {} accesses in {} records in {} batches, {:.2f} s in apply_batch\n", accesses, records, batches,
             apply_seconds);
  fmt::print("  {:.0f} accesses/s   {:.0f} records/s   {:.0f} batches/s   apply p50 {:.0f} us p99 {:.0f} us\n",
             static_cast<double>(accesses) / apply_seconds, static_cast<double>(records) / apply_seconds,
             static_cast<double>(batches) / apply_seconds, apply.p50_us, apply.p99_us);
  fmt::print("size: {:.1f} MB, {:.1f} bytes/access (summaries, indexes and access times)\n",
             static_cast<double>(bytes) / 1e6, static_cast<double>(bytes) / static_cast<double>(accesses));

  if (Status s = open_sqlite_ledger_store(options, store); !s) {
    fmt::print(stderr, "{}\n", s.message());
    return 1;
  }
  constexpr int kQueries = 1000;
  std::vector<std::size_t> picks;  // half popular accounts, half uniform
  for (int i = 0; i < kQueries; ++i) {
    picks.push_back(i % 2 == 0 ? pick_account(accounts.size(), rng) : rng() % accounts.size());
  }
  std::uint64_t rows = 0;
  fmt::print("queries ({} each, half on popular accounts):\n", kQueries);
  auto run_query = [&](const char* name, auto&& one) {
    rows = 0;
    const Percentiles p = time_queries(kQueries, one);
    print(name, p, static_cast<double>(rows) / kQueries);
  };
  run_query("account -> IPs (all time)", [&](int i) {
    AccountIpsQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    Page<IpSummary> page;
    store->account_ips(q, page);
    rows += page.items.size();
  });
  run_query("account -> accesses, first page of 100", [&](int i) {
    AccountAccessesQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    q.limit = 100;
    AccessPage page;
    store->account_accesses(q, page);
    rows += page.items.size();
  });
  run_query("account -> accesses, last day, page of 100", [&](int i) {
    AccountAccessesQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    q.range = TimeRange{kStartMs + kSpanMs - 24 * 3600 * 1000LL, kStartMs + kSpanMs};
    q.limit = 100;
    AccessPage page;
    store->account_accesses(q, page);
    rows += page.items.size();
  });
  run_query("IP /32 or /128 -> accounts", [&](int i) {
    const Account& a = accounts[picks[static_cast<std::size_t>(i)]];
    NetworkAccountsQuery q;
    const IpAddress& address = a.ips[static_cast<std::size_t>(i) % a.ips.size()];
    q.network = Cidr{address, static_cast<std::uint8_t>(address.is_v4() ? 32 : 128)};
    Page<IpSummary> page;
    store->network_accounts(q, page);
    rows += page.items.size();
  });
  run_query("network /24 -> accounts (page of 1000)", [&](int i) {
    NetworkAccountsQuery q;
    q.network = *Cidr::parse(fmt::format("10.0.{}.0/24", (i * 37) % 16));
    Page<IpSummary> page;
    store->network_accounts(q, page);
    rows += page.items.size();
  });
  run_query("account exists", [&](int i) {
    bool exists = false;
    store->account_exists(accounts[picks[static_cast<std::size_t>(i)]].id, exists);
    rows += exists ? 1 : 0;
  });
  return 0;
}

}  // namespace
}  // namespace ipattrib::collector

int main(int argc, char** argv) {
  const std::uint64_t accesses = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  std::string path;
  bool temporary = argc <= 2;
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ledger-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return 1;
    path = pattern + "/ledger.sqlite3";
  } else {
    path = argv[2];
  }
  const int rc = ipattrib::collector::run(accesses == 0 ? 1'000'000 : accesses, path);
  if (temporary) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  return rc;
}
