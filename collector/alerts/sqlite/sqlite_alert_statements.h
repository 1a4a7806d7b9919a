// The SQLite alert store's prepared statements and row reader (private to
// collector/alerts/sqlite).
#pragma once

#include "collector/alerts/sqlite/sqlite_alerts.h"
#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {

// Read by read_alert_row(), in this order.
inline constexpr const char kAlertColumns[] =
    "id, measure_id, measure_title, severity, reason, account, ip, ip_family, access_class, country, "
    "registered_country, subdivision, asn, as_org, anonymizer_flags, db_build_epoch, gateway, first_access_ms, "
    "hit_last_access_ms, hit_count, last_access_ms, access_count, suppressed_hits, created_ms, updated_ms, state, "
    "state_by, state_changed_ms, "
    "state_note, retroactive";

struct SqliteAlerts::Statements {
  SqliteStatement begin, commit, rollback;
  SqliteStatement select_sequence, upsert_sequence;
  SqliteStatement find_recent, fold_hit, insert_alert, insert_outbox;
  SqliteStatement get_alert, list_any, list_account, select_state, update_state;
  SqliteStatement claim, delete_outbox, fail_outbox, release_outbox, outbox_depth;
};

Alert read_alert_row(const SqliteStatement& stmt);
// 16 bytes (IPv4 mapped) and 4 or 6, as stored.
std::string_view ip_bytes(const IpAddress& ip);
int ip_family(const IpAddress& ip);

}  // namespace ipattrib::collector
