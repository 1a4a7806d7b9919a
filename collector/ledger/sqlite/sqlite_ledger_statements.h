// The SQLite ledger's prepared statements (private to collector/ledger/sqlite).
#pragma once

#include <string>

#include "collector/ledger/sqlite/sqlite_ledger.h"
#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {

// Column order of kSummaryColumns, read by read_summary().
enum SummaryColumn : int {
  kColAccount = 0,
  kColIp,
  kColIpFamily,
  kColClass,
  kColIpSource,
  kColFirstSeen,
  kColLastSeen,
  kColCount,
  kColFirstGeo,                    // 7 geo columns
  kColLastGeo = kColFirstGeo + 7,  // 7 geo columns
  kColPrincipal = kColLastGeo + 7,
  kColId,
};

inline constexpr const char kSummaryColumns[] =
    "account, ip, ip_family, access_class, ip_source, first_seen_ms, last_seen_ms, access_count, "
    "f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, f_db_build_epoch, "
    "l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, l_db_build_epoch, "
    "last_principal, id";

struct SqliteLedger::Statements {
  SqliteStatement begin, commit, rollback;
  SqliteStatement select_sequence, upsert_sequence;
  SqliteStatement upsert_summary, insert_summary_gateway;
  SqliteStatement select_open_chunk, append_chunk, insert_chunk;
  SqliteStatement select_gateway_id, insert_gateway, select_gateway_name;
  SqliteStatement account_exists, account_ips, network_accounts, summary_gateway_names;
  SqliteStatement account_summaries, summary_chunks, scan_summaries;
  SqliteStatement old_chunk_totals, delete_old_chunks, straddling_chunks, rewrite_chunk;
  SqliteStatement delete_old_summary_gateways, delete_old_summaries;
};

// 16-byte address and family (4 or 6) as stored.
inline int ip_family_of(const IpAddress& ip) { return ip.is_v4() ? 4 : 6; }
IpAddress ip_from_columns(std::string_view bytes, std::int64_t family);

IpSummary read_summary(const SqliteStatement& stmt);

}  // namespace ipattrib::collector
