// Ledger benchmark: ingest rate of the LedgerStores with realistic agent
// batches (agents apply concurrently, one thread each), then query latency
// (p50/p99) of account history and reverse IP/network lookups on the
// resulting ledger. Prints figures; asserts nothing.
//
//   ledger_bench [--postgresql] [ACCESSES [PATH]]
//       default 1000000 accesses into a SQLite file (PATH, or a temp file).
//       --postgresql: then the same workload on a throwaway PostgreSQL server
//       (tests/support/postgres_server.h, fsync on) with one collector and
//       with two collectors sharing the database, and a summary table.
//
// The figure is for 10 million accesses: `ledger_bench --postgresql 10000000`.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collector/ledger/postgresql/postgres_ledger_store.h"
#include "collector/ledger/sqlite/sqlite_ledger_store.h"
#include "tests/support/postgres_server.h"

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

struct IngestFigures {
  std::uint64_t accesses = 0, records = 0, batches = 0;
  double seconds = 0;  // wall time, all agents
  Percentiles apply;
  double accesses_per_s() const { return static_cast<double>(accesses) / seconds; }
};

// kAgents agents ship concurrently, one thread each, agent k to collector
// k % collectors; each agent's time advances evenly over a month.
bool ingest(const std::vector<LedgerStore*>& collectors, const std::vector<Account>& accounts,
            std::uint64_t target_accesses, IngestFigures& out) {
  const std::uint64_t batches = std::max<std::uint64_t>(kAgents, target_accesses / (kRecordsPerBatch * 5));
  std::mutex mutex;
  std::vector<double> apply_us;
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> agents;
  for (int agent = 0; agent < kAgents; ++agent) {
    agents.emplace_back([&, agent] {
      std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(agent));
      LedgerStore& store = *collectors[static_cast<std::size_t>(agent) % collectors.size()];
      std::vector<double> mine;
      std::uint64_t accesses = 0, records = 0, sequence = 0;
      for (std::uint64_t b = static_cast<std::uint64_t>(agent); b < batches && !failed; b += kAgents) {
        const std::int64_t window =
            kStartMs + static_cast<std::int64_t>(b) * (kSpanMs / static_cast<std::int64_t>(batches));
        const RecordBatch batch = make_batch(agent, ++sequence, window, accounts, rng, accesses);
        records += batch.records.size();
        ApplyResult result;
        const auto t0 = Clock::now();
        Status s = store.apply_batch(batch, result);
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (!s) {
          fmt::print(stderr, "apply_batch: {}\n", s.message());
          failed = true;
        }
      }
      std::lock_guard lock(mutex);
      apply_us.insert(apply_us.end(), mine.begin(), mine.end());
      out.accesses += accesses;
      out.records += records;
      out.batches += sequence;
    });
  }
  for (std::thread& t : agents) t.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.apply = percentiles(apply_us);
  return !failed;
}

void print_ingest(const std::string& what, const IngestFigures& f) {
  fmt::print("{}\n  ingest: {} accesses in {} records in {} batches, {:.2f} s wall\n", what, f.accesses, f.records,
             f.batches, f.seconds);
  fmt::print("  {:.0f} accesses/s   {:.0f} records/s   {:.0f} batches/s   apply p50 {:.0f} us p99 {:.0f} us\n",
             f.accesses_per_s(), static_cast<double>(f.records) / f.seconds, static_cast<double>(f.batches) / f.seconds,
             f.apply.p50_us, f.apply.p99_us);
}

struct QueryFigures {
  Percentiles account_ips, first_page, last_day, ip, network;
};

QueryFigures run_queries(LedgerStore& store, const std::vector<Account>& accounts, std::mt19937_64& rng) {
  QueryFigures figures;
  constexpr int kQueries = 1000;
  std::vector<std::size_t> picks;  // half popular accounts, half uniform
  for (int i = 0; i < kQueries; ++i) {
    picks.push_back(i % 2 == 0 ? pick_account(accounts.size(), rng) : rng() % accounts.size());
  }
  std::uint64_t rows = 0;
  fmt::print("  queries ({} each, half on popular accounts):\n", kQueries);
  auto run_query = [&](const char* name, auto&& one) {
    rows = 0;
    const Percentiles p = time_queries(kQueries, one);
    print(name, p, static_cast<double>(rows) / kQueries);
    return p;
  };
  figures.account_ips = run_query("account -> IPs (all time)", [&](int i) {
    AccountIpsQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    Page<IpSummary> page;
    store.account_ips(q, page);
    rows += page.items.size();
  });
  figures.first_page = run_query("account -> accesses, first page of 100", [&](int i) {
    AccountAccessesQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    q.limit = 100;
    AccessPage page;
    store.account_accesses(q, page);
    rows += page.items.size();
  });
  figures.last_day = run_query("account -> accesses, last day, page of 100", [&](int i) {
    AccountAccessesQuery q;
    q.account = accounts[picks[static_cast<std::size_t>(i)]].id;
    q.range = TimeRange{kStartMs + kSpanMs - 24 * 3600 * 1000LL, kStartMs + kSpanMs};
    q.limit = 100;
    AccessPage page;
    store.account_accesses(q, page);
    rows += page.items.size();
  });
  figures.ip = run_query("IP /32 or /128 -> accounts", [&](int i) {
    const Account& a = accounts[picks[static_cast<std::size_t>(i)]];
    NetworkAccountsQuery q;
    const IpAddress& address = a.ips[static_cast<std::size_t>(i) % a.ips.size()];
    q.network = Cidr{address, static_cast<std::uint8_t>(address.is_v4() ? 32 : 128)};
    Page<IpSummary> page;
    store.network_accounts(q, page);
    rows += page.items.size();
  });
  figures.network = run_query("network /24 -> accounts (page of 1000)", [&](int i) {
    NetworkAccountsQuery q;
    q.network = *Cidr::parse(fmt::format("10.0.{}.0/24", (i * 37) % 16));
    Page<IpSummary> page;
    store.network_accounts(q, page);
    rows += page.items.size();
  });
  run_query("account exists", [&](int i) {
    bool exists = false;
    store.account_exists(accounts[picks[static_cast<std::size_t>(i)]].id, exists);
    rows += exists ? 1 : 0;
  });
  return figures;
}

struct Row {
  std::string store;
  IngestFigures ingest;
  double bytes_per_access = 0;
  std::optional<QueryFigures> queries;
};

bool run_sqlite(std::uint64_t target_accesses, const std::string& path, const std::vector<Account>& accounts,
                std::vector<Row>& rows) {
  std::unique_ptr<LedgerStore> store;
  SqliteLedgerOptions options;
  options.path = path;
  if (Status s = open_sqlite_ledger_store(options, store); !s) {
    fmt::print(stderr, "{}\n", s.message());
    return false;
  }
  Row row{"SQLite, 1 collector", {}, 0, {}};
  if (!ingest({store.get()}, accounts, target_accesses, row.ingest)) return false;
  store.reset();  // checkpoints the WAL into the main file
  const auto bytes = std::filesystem::file_size(path);
  row.bytes_per_access = static_cast<double>(bytes) / static_cast<double>(row.ingest.accesses);
  print_ingest("SQLite (WAL, synchronous=FULL), 1 collector", row.ingest);
  fmt::print("  size: {:.1f} MB, {:.1f} bytes/access (summaries, indexes and access times)\n",
             static_cast<double>(bytes) / 1e6, row.bytes_per_access);
  if (Status s = open_sqlite_ledger_store(options, store); !s) {
    fmt::print(stderr, "{}\n", s.message());
    return false;
  }
  std::mt19937_64 rng(11);
  row.queries = run_queries(*store, accounts, rng);
  rows.push_back(std::move(row));
  return true;
}

// One fresh database per collector count; queries on the last one.
bool run_postgresql(std::uint64_t target_accesses, const std::vector<Account>& accounts, std::vector<Row>& rows) {
  test_support::PostgresServerOptions server_options;
  server_options.durable = true;  // fsync and full-page writes on, as in production
  server_options.shared_buffers = "512MB";
  std::unique_ptr<test_support::PostgresServer> server;
  if (Status s = test_support::PostgresServer::start(server_options, server); !s) {
    fmt::print(stderr, "no PostgreSQL server: {}\n", s.message());
    return false;
  }
  for (int collectors : {1, 2}) {
    const std::string database = fmt::format("bench_{}", collectors);
    if (Status s = server->ensure_database(database); !s) {
      fmt::print(stderr, "{}\n", s.message());
      return false;
    }
    std::vector<std::unique_ptr<LedgerStore>> stores(static_cast<std::size_t>(collectors));
    std::vector<LedgerStore*> pointers;
    for (auto& store : stores) {
      PostgresLedgerOptions options;
      options.conninfo = server->conninfo(database);
      options.write_connections = kAgents;
      if (Status s = open_postgres_ledger_store(options, store); !s) {
        fmt::print(stderr, "{}\n", s.message());
        return false;
      }
      pointers.push_back(store.get());
    }
    Row row{fmt::format("PostgreSQL, {} collector{}", collectors, collectors > 1 ? "s" : ""), {}, 0, {}};
    if (!ingest(pointers, accounts, target_accesses, row.ingest)) return false;
    print_ingest(fmt::format("PostgreSQL (fsync on, unix socket, same host), {}", row.store), row.ingest);
    server->execute(database, "VACUUM ANALYZE");
    std::string size;
    server->execute(database, "SELECT pg_database_size(current_database())", &size);
    row.bytes_per_access = std::strtod(size.c_str(), nullptr) / static_cast<double>(row.ingest.accesses);
    fmt::print("  size: {:.1f} MB, {:.1f} bytes/access (whole database: tables, indexes, catalog)\n",
               std::strtod(size.c_str(), nullptr) / 1e6, row.bytes_per_access);
    if (collectors == 2) {
      std::mt19937_64 rng(11);
      row.queries = run_queries(*stores[0], accounts, rng);
    }
    rows.push_back(std::move(row));
  }
  return true;
}

void print_summary(const std::vector<Row>& rows) {
  fmt::print(
      "\n| store | ingest accesses/s | apply p50/p99 | bytes/access | account→IPs p50/p99 | accesses "
      "(first 100) p50/p99 | IP→accounts p50/p99 | /24→accounts p50/p99 |\n|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    auto pair = [](const Percentiles& p) { return fmt::format("{:.0f} / {:.0f} µs", p.p50_us, p.p99_us); };
    fmt::print("| {} | {:.0f} k | {:.1f} / {:.1f} ms | {:.1f} | {} | {} | {} | {} |\n", r.store,
               r.ingest.accesses_per_s() / 1000, r.ingest.apply.p50_us / 1000, r.ingest.apply.p99_us / 1000,
               r.bytes_per_access, r.queries ? pair(r.queries->account_ips) : "–",
               r.queries ? pair(r.queries->first_page) : "–", r.queries ? pair(r.queries->ip) : "–",
               r.queries ? pair(r.queries->network) : "–");
  }
}

int run(std::uint64_t target_accesses, const std::string& path, bool postgresql) {
  std::mt19937_64 rng(7);
  const std::size_t account_count = std::max<std::size_t>(1000, target_accesses / 1000);
  const auto accounts = make_accounts(account_count, rng);
  fmt::print("ledger_bench: {} accounts, {} agents shipping concurrently, {} records/batch\n", account_count, kAgents,
             kRecordsPerBatch);
  std::vector<Row> rows;
  if (!run_sqlite(target_accesses, path, accounts, rows)) return 1;
  if (postgresql && !run_postgresql(target_accesses, accounts, rows)) return 1;
  print_summary(rows);
  return 0;
}

}  // namespace
}  // namespace ipattrib::collector

int main(int argc, char** argv) {
  bool postgresql = false;
  if (argc > 1 && std::strcmp(argv[1], "--postgresql") == 0) {
    postgresql = true;
    --argc;
    ++argv;
  }
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
  const int rc = ipattrib::collector::run(accesses == 0 ? 1'000'000 : accesses, path, postgresql);
  if (temporary) std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  return rc;
}
