// Read side of the SQLite ledger: account -> IPs, account -> accesses,
// network -> accounts, export.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <tuple>

#include "collector/ledger/access_time_codec.h"
#include "collector/ledger/ledger_store_rules.h"
#include "collector/ledger/sqlite/sqlite_ledger.h"
#include "collector/ledger/sqlite/sqlite_ledger_statements.h"

namespace ipattrib::collector {
namespace {

RecordGeo read_geo(const SqliteStatement& s, int first) {
  RecordGeo g;
  g.country = s.column_blob(first);
  g.registered_country = s.column_blob(first + 1);
  g.subdivision = s.column_blob(first + 2);
  g.asn = static_cast<std::uint32_t>(s.column_int(first + 3));
  g.as_org = s.column_blob(first + 4);
  g.anonymizer_flags = static_cast<std::uint8_t>(s.column_int(first + 5));
  g.db_build_epoch = s.column_int(first + 6);
  return g;
}

std::string_view ip_blob(const IpAddress& ip) {
  return std::string_view(reinterpret_cast<const char*>(ip.bytes().data()), ip.bytes().size());
}

// Lowest and highest 16-byte values inside a network.
std::pair<std::string, std::string> network_bounds(const Cidr& cidr) {
  std::string low(ip_blob(cidr.network));
  std::string high = low;
  const int bits = cidr.network.is_v4() ? cidr.prefix_length + 96 : cidr.prefix_length;
  for (int bit = bits; bit < 128; ++bit) {
    const auto mask = static_cast<char>(0x80u >> (bit % 8));
    low[static_cast<std::size_t>(bit / 8)] = static_cast<char>(low[static_cast<std::size_t>(bit / 8)] & ~mask);
    high[static_cast<std::size_t>(bit / 8)] = static_cast<char>(high[static_cast<std::size_t>(bit / 8)] | mask);
  }
  return {low, high};
}

// Binds the account-access selection shared by account_summaries and
// account_chunks: ?1 account, ?2 family or -1, ?3 ip, ?4 class or -1,
// ?5 since, ?6 until.
void bind_access_selection(SqliteStatement& s, const AccountAccessesQuery& q, std::int64_t since) {
  s.bind_blob(1, q.account)
      .bind_int(2, q.ip ? ip_family_of(*q.ip) : -1)
      .bind_blob(3, q.ip ? ip_blob(*q.ip) : std::string_view())
      .bind_int(4, q.access_class ? static_cast<int>(*q.access_class) : -1)
      .bind_int(5, since)
      .bind_int(6, q.range.until_ms);
}

struct SummaryKey {
  IpAddress ip;
  RecordClass access_class;
};

struct Candidate {
  Access access;
  bool operator<(const Candidate& o) const {
    return std::tie(access.time_ms, access.ip, access.access_class, access.gateway) <
           std::tie(o.access.time_ms, o.access.ip, o.access.access_class, o.access.gateway);
  }
};

}  // namespace

IpAddress ip_from_columns(std::string_view bytes, std::int64_t family) {
  if (bytes.size() != 16) return IpAddress();
  const auto* b = reinterpret_cast<const std::uint8_t*>(bytes.data());
  return family == 4 ? IpAddress::from_v4_bytes(b + 12) : IpAddress::from_v6_bytes(b);
}

IpSummary read_summary(const SqliteStatement& s) {
  IpSummary out;
  out.account = s.column_blob(kColAccount);
  out.ip = ip_from_columns(s.column_blob_view(kColIp), s.column_int(kColIpFamily));
  out.access_class = static_cast<RecordClass>(s.column_int(kColClass));
  out.ip_source = static_cast<RecordIpSource>(s.column_int(kColIpSource));
  out.first_seen_ms = s.column_int(kColFirstSeen);
  out.last_seen_ms = s.column_int(kColLastSeen);
  out.access_count = static_cast<std::uint64_t>(s.column_int(kColCount));
  out.first_geo = read_geo(s, kColFirstGeo);
  out.last_geo = read_geo(s, kColLastGeo);
  out.last_principal = s.column_blob(kColPrincipal);
  return out;
}

Status SqliteLedger::account_exists(const std::string& account, bool& exists) {
  std::lock_guard lock(reader_.mutex);
  SqliteStatement& q = reader_.st->account_exists;
  q.bind_blob(1, account);
  const int rc = q.step();
  exists = rc == SQLITE_ROW;
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : q.error("account_exists");
  q.reset();
  return s;
}

// Reads up to limit summaries (the statement asks for limit + 1 to learn
// whether another page exists), then their gateways.
Status SqliteLedger::read_summaries(SqliteStatement& stmt, std::uint32_t limit, Page<IpSummary>& page) {
  page = Page<IpSummary>{};
  std::vector<std::int64_t> ids;
  int rc;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    if (page.items.size() == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(read_summary(stmt));
    ids.push_back(stmt.column_int(kColId));
  }
  Status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::ok() : stmt.error("reading summaries");
  stmt.reset();
  for (std::size_t i = 0; s && i < ids.size(); ++i) s = read_gateways(ids[i], page.items[i].gateways);
  return s;
}

Status SqliteLedger::read_gateways(std::int64_t summary_id, std::vector<std::string>& names) {
  SqliteStatement& q = reader_.st->summary_gateway_names;
  q.bind_int(1, summary_id);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) names.push_back(q.column_blob(0));
  Status s = rc == SQLITE_DONE ? Status::ok() : q.error("reading gateways");
  q.reset();
  return s;
}

Status SqliteLedger::gateway_name(std::int64_t id, std::string& name) {
  if (auto it = gateway_names_.find(id); it != gateway_names_.end()) {
    name = it->second;
    return Status::ok();
  }
  SqliteStatement& q = reader_.st->select_gateway_name;
  q.bind_int(1, id);
  const int rc = q.step();
  name = rc == SQLITE_ROW ? q.column_blob(0) : std::string();
  Status s = rc == SQLITE_ROW ? Status::ok() : Status::error(fmt::format("ledger gateway {} missing", id));
  q.reset();
  if (s) gateway_names_.emplace(id, name);
  return s;
}

Status SqliteLedger::account_ips(const AccountIpsQuery& query, Page<IpSummary>& page) {
  std::lock_guard lock(reader_.mutex);
  return account_ips_locked(query, page);
}

Status SqliteLedger::account_ips_locked(const AccountIpsQuery& query, Page<IpSummary>& page) {
  SqliteStatement& q = reader_.st->account_ips;
  q.bind_blob(1, query.account)
      .bind_int(2, query.range.since_ms)
      .bind_int(3, query.range.until_ms)
      .bind_int(4, query.access_class ? static_cast<int>(*query.access_class) : -1)
      .bind_blob(5, query.country)
      .bind_int(6, static_cast<std::int64_t>(query.limit) + 1)
      .bind_int(7, static_cast<std::int64_t>(std::min<std::uint64_t>(query.offset, INT64_MAX)));
  return read_summaries(q, query.limit, page);
}

Status SqliteLedger::network_accounts(const NetworkAccountsQuery& query, Page<IpSummary>& page) {
  if (!query.network.network.is_set()) return Status::error("network query without an address");
  const auto [low, high] = network_bounds(query.network);
  std::lock_guard lock(reader_.mutex);
  SqliteStatement& q = reader_.st->network_accounts;
  q.bind_blob(1, low)
      .bind_blob(2, high)
      .bind_int(3, ip_family_of(query.network.network))
      .bind_int(4, query.range.since_ms)
      .bind_int(5, query.range.until_ms)
      .bind_int(6, static_cast<std::int64_t>(query.limit) + 1)
      .bind_int(7, static_cast<std::int64_t>(std::min<std::uint64_t>(query.offset, INT64_MAX)));
  return read_summaries(q, query.limit, page);
}

Status SqliteLedger::account_accesses(const AccountAccessesQuery& query, AccessPage& page) {
  std::lock_guard lock(reader_.mutex);
  return account_accesses_locked(query, page);
}

// The earliest `needed` accesses seen so far (in Candidate order), kept
// loosely: pruned to `needed` when it grows to twice that. Once pruned,
// `bound` is the time of the needed-th access, and no chunk starting after
// it can contribute.
struct SqliteLedger::AccessCollector {
  std::uint64_t needed = 0;
  std::vector<Candidate> kept;
  std::optional<std::int64_t> bound;

  void prune() {
    if (kept.size() < needed) return;
    std::sort(kept.begin(), kept.end());
    kept.resize(needed);
    bound = kept.back().access.time_ms;
  }
};

// Reads one summary's chunks in first_ms order (the primary index order, so
// no sort) and stops at the first chunk that starts after the bound: a page
// near the start of a long history does not decode the whole history.
Status SqliteLedger::collect_summary_accesses(std::int64_t summary_id, const IpAddress& ip, RecordClass access_class,
                                              std::int64_t since, std::int64_t until, AccessCollector& collector) {
  SqliteStatement& q = reader_.st->summary_chunks;
  q.bind_int(1, summary_id)
      .bind_int(2, since < std::numeric_limits<std::int64_t>::min() + kMaxChunkSpanMs
                       ? std::numeric_limits<std::int64_t>::min()
                       : since - kMaxChunkSpanMs)
      .bind_int(3, until)
      .bind_int(4, since);
  std::vector<std::int64_t> times;
  Status s;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    const std::int64_t first_ms = q.column_int(1);
    if (collector.bound && first_ms > *collector.bound) break;
    std::string gateway;
    if (s = gateway_name(q.column_int(0), gateway); !s) break;
    times.clear();
    if (!decode_access_times(first_ms, q.column_blob_view(3), static_cast<std::uint64_t>(q.column_int(2)), times)) {
      s = Status::error(fmt::format("ledger access chunk of summary {} is corrupt", summary_id));
      break;
    }
    for (std::int64_t t : times) {
      if (t >= since && t <= until) collector.kept.push_back(Candidate{Access{t, ip, access_class, gateway}});
    }
    if (collector.kept.size() >= 2 * collector.needed) collector.prune();
  }
  if (s && rc != SQLITE_ROW && rc != SQLITE_DONE) s = q.error("reading access chunks");
  q.reset();
  return s;
}

Status SqliteLedger::account_accesses_locked(const AccountAccessesQuery& query, AccessPage& page) {
  page = AccessPage{};
  const std::int64_t since = std::max(query.range.since_ms, query.after.time_ms);
  if (since > query.range.until_ms || query.limit == 0) return Status::ok();

  struct Selected {
    std::int64_t id;
    SummaryKey key;
  };
  std::vector<Selected> summaries;
  SqliteStatement& ids = reader_.st->account_summaries;
  bind_access_selection(ids, query, since);
  int rc;
  while ((rc = ids.step()) == SQLITE_ROW) {
    summaries.push_back(
        Selected{ids.column_int(0), SummaryKey{ip_from_columns(ids.column_blob_view(1), ids.column_int(2)),
                                               static_cast<RecordClass>(ids.column_int(3))}});
  }
  Status s = rc == SQLITE_DONE ? Status::ok() : ids.error("reading account summaries");
  ids.reset();
  if (!s) return s;

  // Keep the accesses skipped at the cursor's time, the page, and one more
  // to learn whether another page follows.
  const std::int64_t cursor_time = query.after.time_ms;
  const std::uint64_t skip = since == cursor_time ? query.after.skip_at_time : 0;
  AccessCollector collector;
  collector.needed = skip + query.limit + 1;
  for (const Selected& summary : summaries) {
    s = collect_summary_accesses(summary.id, summary.key.ip, summary.key.access_class, since, query.range.until_ms,
                                 collector);
    if (!s) return s;
    collector.prune();
  }
  std::vector<Candidate>& kept = collector.kept;
  std::sort(kept.begin(), kept.end());
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

// Pages through the summaries by key, taking the reader lock for one page at
// a time and calling the visitor with no lock held: a scan of the whole
// ledger neither blocks queries for its duration nor deadlocks a visitor
// that queries the store. Summaries committed during the scan are visited if
// their key is still ahead of it.
Status SqliteLedger::scan_summaries(const std::function<bool(const IpSummary&)>& visit) {
  constexpr std::uint32_t kPageSize = 512;
  std::string account, ip;  // key of the last visited summary; below every real one at first
  std::int64_t family = -1, access_class = -1;
  for (;;) {
    Page<IpSummary> page;
    {
      std::lock_guard lock(reader_.mutex);
      SqliteStatement& q = reader_.st->scan_summaries;
      q.bind_blob(1, account).bind_blob(2, ip).bind_int(3, family).bind_int(4, access_class).bind_int(5, kPageSize + 1);
      if (Status s = read_summaries(q, kPageSize, page); !s) return s;
    }
    for (const IpSummary& summary : page.items) {
      if (!visit(summary)) return Status::ok();
    }
    if (!page.more || page.items.empty()) return Status::ok();
    const IpSummary& last = page.items.back();
    account = last.account;
    ip = std::string(ip_blob(last.ip));
    family = ip_family_of(last.ip);
    access_class = static_cast<std::int64_t>(last.access_class);
  }
}

// One read transaction: the summaries and accesses come from one snapshot
// even while batches commit.
Status SqliteLedger::export_account(const std::string& account, AccountExport& out) {
  out = AccountExport{};
  std::lock_guard lock(reader_.mutex);
  if (Status s = sqlite_exec(reader_.db, "BEGIN"); !s) return s;
  Status s = export_account_locked(account, out);
  sqlite_exec(reader_.db, "COMMIT");  // nothing was written; ends the snapshot
  if (!s) out = AccountExport{};
  return s;
}

Status SqliteLedger::export_account_locked(const std::string& account, AccountExport& out) {
  return collect_account_export(
      account, [this](const AccountIpsQuery& q, Page<IpSummary>& page) { return account_ips_locked(q, page); },
      [this](const AccountAccessesQuery& q, AccessPage& page) { return account_accesses_locked(q, page); }, out);
}

}  // namespace ipattrib::collector
