#include "collector/alerts/sqlite/sqlite_alert_schema.h"

#include <fmt/format.h>

#include <array>

#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {
namespace {

// Why this shape:
// - AUTOINCREMENT: an alert id is never reused, even after the newest alert
//   is deleted, because receivers use it as their idempotency key and the
//   API pages by it.
// - alerts_by_key serves the dedup lookup (newest alert of a (measure,
//   account, ip) created after the window start) with one index seek.
// - hit_* keep the first hit as it was; last_access_ms and access_count
//   grow as later hits fold in.
// - Strings are blobs, as in the ledger: compared byte for byte.
// - An outbox row lives until its sink accepted the alert; alert_outbox_due
//   finds a sink's due rows oldest first.
constexpr const char kV1[] = R"sql(
CREATE TABLE alerts_schema_version (version INTEGER NOT NULL);
INSERT INTO alerts_schema_version (version) VALUES (0);
CREATE TABLE alert_sequences (
  agent_id BLOB PRIMARY KEY,
  highest_sequence INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  measure_id BLOB NOT NULL,
  measure_title BLOB NOT NULL,
  severity INTEGER NOT NULL,
  reason BLOB NOT NULL,
  account BLOB NOT NULL,
  ip BLOB NOT NULL,
  ip_family INTEGER NOT NULL,
  access_class INTEGER NOT NULL,
  country BLOB NOT NULL, registered_country BLOB NOT NULL, subdivision BLOB NOT NULL,
  asn INTEGER NOT NULL, as_org BLOB NOT NULL, anonymizer_flags INTEGER NOT NULL, db_build_epoch INTEGER NOT NULL,
  gateway BLOB NOT NULL,
  first_access_ms INTEGER NOT NULL,
  hit_last_access_ms INTEGER NOT NULL,
  hit_count INTEGER NOT NULL,
  last_access_ms INTEGER NOT NULL,
  access_count INTEGER NOT NULL,
  suppressed_hits INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  state INTEGER NOT NULL,
  state_by BLOB NOT NULL,
  state_changed_ms INTEGER NOT NULL,
  state_note BLOB NOT NULL
);
CREATE INDEX alerts_by_key ON alerts (measure_id, account, ip, ip_family, created_ms);
CREATE INDEX alerts_by_account ON alerts (account, id);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  sink BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_error BLOB NOT NULL
);
CREATE INDEX alert_outbox_due ON alert_outbox (sink, next_attempt_ms, id);
)sql";

// v2: alerts raised by a retroactive scan (record_hits with no agent) say so.
constexpr const char kV2[] = R"sql(
ALTER TABLE alerts ADD COLUMN retroactive INTEGER NOT NULL DEFAULT 0;
)sql";

// v3: collectors sharing the outbox claim entries with a lease; a claimed
// entry is skipped by other claimers until leased_until_ms (0: not leased).
constexpr const char kV3[] = R"sql(
ALTER TABLE alert_outbox ADD COLUMN leased_until_ms INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<const char*, 3> kMigrations = {kV1, kV2, kV3};

}  // namespace

int sqlite_alert_schema_latest_version() { return static_cast<int>(kMigrations.size()); }

Status read_sqlite_alert_schema_version(sqlite3* db, int& version) {
  version = 0;
  SqliteStatement exists;
  if (Status s =
          exists.prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts_schema_version'");
      !s) {
    return s;
  }
  if (exists.step() != SQLITE_ROW) return Status::ok();
  SqliteStatement read;
  if (Status s = read.prepare(db, "SELECT version FROM alerts_schema_version"); !s) return s;
  if (read.step() != SQLITE_ROW) return Status::error("alerts_schema_version table is empty");
  version = static_cast<int>(read.column_int(0));
  return Status::ok();
}

Status migrate_sqlite_alert_schema(sqlite3* db) {
  int version = 0;
  if (Status s = read_sqlite_alert_schema_version(db, version); !s) return s;
  if (version > sqlite_alert_schema_latest_version()) {
    return Status::error(fmt::format("alert schema version {} is newer than this program's {}; refusing to open",
                                     version, sqlite_alert_schema_latest_version()));
  }
  for (int next = version; next < sqlite_alert_schema_latest_version(); ++next) {
    // IMMEDIATE: two processes opening one new file must not both migrate.
    if (Status s = sqlite_exec(db, "BEGIN IMMEDIATE"); !s) return s;
    int current = 0;
    Status s = read_sqlite_alert_schema_version(db, current);
    if (s && current == next) s = sqlite_exec(db, kMigrations[static_cast<std::size_t>(next)]);
    if (s && current == next) {
      s = sqlite_exec(db, fmt::format("UPDATE alerts_schema_version SET version = {}", next + 1).c_str());
    }
    if (s) s = sqlite_exec(db, "COMMIT");
    if (!s) {
      sqlite_exec(db, "ROLLBACK");
      return Status::error(fmt::format("alert schema migration to version {} failed: {}", next + 1, s.message()));
    }
  }
  return Status::ok();
}

}  // namespace ipattrib::collector
