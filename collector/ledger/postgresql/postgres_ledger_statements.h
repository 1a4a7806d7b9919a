// The PostgreSQL ledger's prepared statements (private to
// collector/ledger/postgresql): names and SQL, prepared on every connection.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ipattrib::collector {

// Column order of kPgSummaryColumns, read by read_pg_summary().
enum PgSummaryColumn : int {
  kPgColAccount = 0,
  kPgColIp,
  kPgColClass,
  kPgColIpSource,
  kPgColFirstSeen,
  kPgColLastSeen,
  kPgColCount,
  kPgColFirstGeo,                      // 7 geo columns
  kPgColLastGeo = kPgColFirstGeo + 7,  // 7 geo columns
  kPgColPrincipal = kPgColLastGeo + 7,
  kPgColId,
};

inline constexpr const char kPgSummaryColumns[] =
    "account, ip, access_class, ip_source, first_seen_ms, last_seen_ms, access_count, "
    "f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, f_db_build_epoch, "
    "l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, l_db_build_epoch, "
    "last_principal, id";

std::vector<std::pair<std::string, std::string>> postgres_ledger_statements();

}  // namespace ipattrib::collector
