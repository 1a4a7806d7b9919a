// Read side of the PostgreSQL ledger: account -> IPs, account -> accesses,
// network -> accounts, export, whole-ledger scan. Summaries of one account
// come in (ip, class) order with IPv4 before IPv6 (inet order, the same as
// IpAddress's); the SQLite store orders by the 16-byte mapped form, which
// differs only for IPv6 addresses below ::ffff:0:0.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/ledger_store_rules.h"
#include "collector/ledger/postgresql/postgres_ledger.h"
#include "collector/ledger/postgresql/postgres_ledger_statements.h"

namespace ipattrib::collector {
namespace {

RecordGeo read_geo(const PgResult& r, int row, int first) {
  RecordGeo g;
  g.country = r.string_at(row, first);
  g.registered_country = r.string_at(row, first + 1);
  g.subdivision = r.string_at(row, first + 2);
  g.asn = static_cast<std::uint32_t>(r.int_at(row, first + 3));
  g.as_org = r.string_at(row, first + 4);
  g.anonymizer_flags = static_cast<std::uint8_t>(r.int_at(row, first + 5));
  g.db_build_epoch = r.int_at(row, first + 6);
  return g;
}

IpSummary read_pg_summary(const PgResult& r, int row) {
  IpSummary out;
  out.account = r.string_at(row, kPgColAccount);
  out.ip = r.inet_at(row, kPgColIp);
  out.access_class = static_cast<RecordClass>(r.int_at(row, kPgColClass));
  out.ip_source = static_cast<RecordIpSource>(r.int_at(row, kPgColIpSource));
  out.first_seen_ms = r.int_at(row, kPgColFirstSeen);
  out.last_seen_ms = r.int_at(row, kPgColLastSeen);
  out.access_count = static_cast<std::uint64_t>(r.int_at(row, kPgColCount));
  out.first_geo = read_geo(r, row, kPgColFirstGeo);
  out.last_geo = read_geo(r, row, kPgColLastGeo);
  out.last_principal = r.string_at(row, kPgColPrincipal);
  return out;
}

std::int64_t clamp_offset(std::uint64_t offset) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(offset, INT64_MAX));
}

struct Candidate {
  Access access;
  bool operator<(const Candidate& o) const {
    return std::tie(access.time_ms, access.ip, access.access_class, access.gateway) <
           std::tie(o.access.time_ms, o.access.ip, o.access.access_class, o.access.gateway);
  }
};

}  // namespace

Status PostgresLedger::account_exists(const std::string& account, bool& exists) {
  return read_with_reconnect([&] {
    PgResult r;
    if (Status s = reader_.run("account_exists", PgParams().bytea(account), r); !s) return s;
    exists = r.rows() > 0;
    return Status::ok();
  });
}

// Runs a summary statement asking for limit + 1 rows (to learn whether
// another page exists), then reads the page's gateways in one more query.
Status PostgresLedger::read_summaries(const char* statement, const PgParams& params, std::uint32_t limit,
                                      Page<IpSummary>& page) {
  page = Page<IpSummary>{};
  PgResult r;
  if (Status s = reader_.run(statement, params, r); !s) return s;
  const int rows = std::min<int>(r.rows(), static_cast<int>(std::min<std::uint32_t>(limit, INT32_MAX)));
  page.more = r.rows() > rows;
  if (rows == 0) return Status::ok();
  PgArray ids;
  std::map<std::int64_t, std::size_t> index_of;
  for (int row = 0; row < rows; ++row) {
    page.items.push_back(read_pg_summary(r, row));
    ids.add_int(r.int_at(row, kPgColId));
    index_of[r.int_at(row, kPgColId)] = static_cast<std::size_t>(row);
  }
  PgResult g;
  if (Status s = reader_.run("summary_gateway_names", PgParams().text(ids.literal()), g); !s) return s;
  for (int row = 0; row < g.rows(); ++row) {
    page.items[index_of.at(g.int_at(row, 0))].gateways.push_back(g.string_at(row, 1));
  }
  return Status::ok();
}

Status PostgresLedger::gateway_name(std::int64_t id, std::string& name) {
  {
    std::lock_guard lock(gateway_mutex_);
    if (auto it = gateway_names_.find(id); it != gateway_names_.end()) {
      name = it->second;
      return Status::ok();
    }
  }
  PgResult r;
  if (Status s = reader_.run("select_gateway_name", PgParams().int8(id), r); !s) return s;
  if (r.rows() == 0) return Status::error(fmt::format("ledger gateway {} missing", id));
  name = r.string_at(0, 0);
  std::lock_guard lock(gateway_mutex_);
  gateway_names_.emplace(id, name);
  return Status::ok();
}

Status PostgresLedger::account_ips(const AccountIpsQuery& query, Page<IpSummary>& page) {
  return read_with_reconnect([&] { return account_ips_locked(query, page); });
}

Status PostgresLedger::account_ips_locked(const AccountIpsQuery& query, Page<IpSummary>& page) {
  PgParams p;
  p.bytea(query.account)
      .int8(query.range.since_ms)
      .int8(query.range.until_ms)
      .int8(query.access_class ? static_cast<int>(*query.access_class) : -1)
      .bytea(query.country)
      .int8(static_cast<std::int64_t>(query.limit) + 1)
      .int8(clamp_offset(query.offset));
  return read_summaries("account_ips", p, query.limit, page);
}

Status PostgresLedger::network_accounts(const NetworkAccountsQuery& query, Page<IpSummary>& page) {
  if (!query.network.network.is_set()) return Status::error("network query without an address");
  PgParams p;
  p.inet(query.network)
      .int8(query.range.since_ms)
      .int8(query.range.until_ms)
      .int8(static_cast<std::int64_t>(query.limit) + 1)
      .int8(clamp_offset(query.offset));
  return read_with_reconnect([&] { return read_summaries("network_accounts", p, query.limit, page); });
}

// Pages through the summaries by key, holding the reader lock for one page
// at a time and calling the visitor with no lock held, so a visitor may
// query the store.
Status PostgresLedger::scan_summaries(const std::function<bool(const IpSummary&)>& visit) {
  constexpr std::uint32_t kPageSize = 512;
  std::optional<IpSummary> last;
  for (;;) {
    Page<IpSummary> page;
    PgParams p;
    if (last) p.bytea(last->account).inet(last->ip).int8(static_cast<int>(last->access_class));
    p.int8(kPageSize + 1);
    if (Status s =
            read_with_reconnect([&] { return read_summaries(last ? "scan_next" : "scan_first", p, kPageSize, page); });
        !s) {
      return s;
    }
    for (const IpSummary& summary : page.items) {
      if (!visit(summary)) return Status::ok();
    }
    if (!page.more || page.items.empty()) return Status::ok();
    last = page.items.back();
  }
}

Status PostgresLedger::account_accesses(const AccountAccessesQuery& query, AccessPage& page) {
  return read_with_reconnect([&] { return account_accesses_locked(query, page); });
}

// Chooses the chunks a page needs without reading their times: in first_ms
// order, chunks lying wholly inside [since, until] are counted until they
// hold `needed` accesses; B is the latest last_ms among those. At least
// `needed` accesses are then at or before B, so a chunk starting after B
// cannot hold one of the page's accesses, and the walk stops there.
std::vector<std::int64_t> PostgresLedger::chunks_for_page(const PgResult& bounds, std::int64_t since,
                                                          std::int64_t until, std::uint64_t needed) {
  std::vector<std::int64_t> ids;
  std::uint64_t counted = 0;
  std::int64_t latest = std::numeric_limits<std::int64_t>::min();
  std::optional<std::int64_t> bound;
  for (int row = 0; row < bounds.rows(); ++row) {
    const std::int64_t first_ms = bounds.int_at(row, 1);
    const std::int64_t last_ms = bounds.int_at(row, 2);
    if (bound && first_ms > *bound) break;
    ids.push_back(bounds.int_at(row, 0));
    if (!bound && first_ms >= since && last_ms <= until) {
      counted += static_cast<std::uint64_t>(bounds.int_at(row, 3));
      latest = std::max(latest, last_ms);
      if (counted >= needed) bound = latest;
    }
  }
  return ids;
}

Status PostgresLedger::account_accesses_locked(const AccountAccessesQuery& query, AccessPage& page) {
  page = AccessPage{};
  const std::int64_t since = std::max(query.range.since_ms, query.after.time_ms);
  const std::int64_t until = query.range.until_ms;
  if (since > until || query.limit == 0) return Status::ok();
  const std::int64_t cursor_time = query.after.time_ms;
  const std::uint64_t skip = since == cursor_time ? query.after.skip_at_time : 0;
  // The accesses skipped at the cursor's time, the page, and one more to
  // learn whether another page follows.
  const std::uint64_t needed = skip + query.limit + 1;

  PgParams p;
  p.bytea(query.account);
  if (query.ip) {
    p.inet(*query.ip);
  } else {
    p.null();
  }
  p.int8(query.access_class ? static_cast<int>(*query.access_class) : -1)
      .int8(since)
      .int8(until)
      .int8(since < std::numeric_limits<std::int64_t>::min() + kPgMaxChunkSpanMs
                ? std::numeric_limits<std::int64_t>::min()
                : since - kPgMaxChunkSpanMs);
  PgResult bounds;
  if (Status s = reader_.run("account_chunk_bounds", p, bounds); !s) return s;
  const std::vector<std::int64_t> ids = chunks_for_page(bounds, since, until, needed);
  if (ids.empty()) return Status::ok();
  PgArray id_array;
  for (std::int64_t id : ids) id_array.add_int(id);
  PgResult chunks;
  if (Status s = reader_.run("chunks_by_id", PgParams().text(id_array.literal()), chunks); !s) return s;

  std::vector<Candidate> kept;
  std::vector<std::int64_t> times;
  for (int row = 0; row < chunks.rows(); ++row) {
    std::string gateway;
    if (Status s = gateway_name(chunks.int_at(row, 2), gateway); !s) return s;
    times.clear();
    if (!decode_access_times(chunks.int_at(row, 3), chunks.bytes_at(row, 5),
                             static_cast<std::uint64_t>(chunks.int_at(row, 4)), times)) {
      return Status::error(fmt::format("ledger access chunk {} is corrupt", chunks.int_at(row, 6)));
    }
    const IpAddress address = chunks.inet_at(row, 0);
    const auto cls = static_cast<RecordClass>(chunks.int_at(row, 1));
    for (std::int64_t t : times) {
      if (t >= since && t <= until) kept.push_back(Candidate{Access{t, address, cls, gateway}});
    }
  }
  const std::size_t keep = static_cast<std::size_t>(std::min<std::uint64_t>(needed, kept.size()));
  std::partial_sort(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(keep), kept.end());
  kept.resize(keep);
  const std::size_t begin = static_cast<std::size_t>(std::min<std::uint64_t>(skip, kept.size()));
  const std::size_t end = static_cast<std::size_t>(std::min<std::uint64_t>(skip + query.limit, kept.size()));
  for (std::size_t i = begin; i < end; ++i) page.items.push_back(std::move(kept[i].access));
  if (kept.size() > end && !page.items.empty()) {
    const std::int64_t last = page.items.back().time_ms;
    std::uint64_t at_last = last == cursor_time ? skip : 0;
    for (const Access& a : page.items) at_last += a.time_ms == last ? 1 : 0;
    page.next = AccessCursor{last, at_last};
  }
  return Status::ok();
}

// One read-only REPEATABLE READ transaction: the summaries and accesses
// come from one snapshot even while batches commit.
Status PostgresLedger::export_account(const std::string& account, AccountExport& out) {
  return read_with_reconnect([&] {
    out = AccountExport{};
    if (Status s = reader_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
    Status s = export_account_locked(account, out);
    reader_.exec(s ? "COMMIT" : "ROLLBACK");
    if (!s) out = AccountExport{};
    return s;
  });
}

Status PostgresLedger::export_account_locked(const std::string& account, AccountExport& out) {
  return collect_account_export(
      account, [this](const AccountIpsQuery& q, Page<IpSummary>& page) { return account_ips_locked(q, page); },
      [this](const AccountAccessesQuery& q, AccessPage& page) { return account_accesses_locked(q, page); }, out);
}

}  // namespace ipattrib::collector
