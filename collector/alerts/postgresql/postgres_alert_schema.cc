#include "collector/alerts/postgresql/postgres_alert_schema.h"

#include <fmt/format.h>

#include <array>

namespace ipattrib::collector {
namespace {

// Why this shape:
// - Identity ids are never reused: receivers use an alert's id as their
//   idempotency key and the API pages by it.
// - Strings are bytea, compared byte for byte as in the SQLite store and the
//   ledger; the address is inet, where v4 and v4-mapped v6 differ.
// - alerts_by_key serves the dedup lookup (newest alert of a (measure,
//   account, ip) created after the window start) with one index scan.
// - alert_sequences holds each agent's highest recorded batch; the row is
//   claimed in the recording transaction, so two collectors recording one
//   batch apply it once.
// - An outbox row lives until its sink took the alert; leased_until_ms
//   reserves it to the collector that claimed it (0: not leased).
// - Tables are named alert*, apart from the ledger's ledger_* in the same
//   database.
constexpr const char kV1[] = R"sql(
CREATE TABLE alert_sequences (
  agent_id bytea PRIMARY KEY,
  highest_sequence bigint NOT NULL,
  updated_ms bigint NOT NULL
);
CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  measure_id bytea NOT NULL,
  measure_title bytea NOT NULL,
  severity smallint NOT NULL,
  reason bytea NOT NULL,
  account bytea NOT NULL,
  ip inet NOT NULL,
  access_class smallint NOT NULL,
  country bytea NOT NULL, registered_country bytea NOT NULL, subdivision bytea NOT NULL,
  asn bigint NOT NULL, as_org bytea NOT NULL, anonymizer_flags smallint NOT NULL, db_build_epoch bigint NOT NULL,
  gateway bytea NOT NULL,
  first_access_ms bigint NOT NULL,
  hit_last_access_ms bigint NOT NULL,
  hit_count bigint NOT NULL,
  last_access_ms bigint NOT NULL,
  access_count bigint NOT NULL,
  suppressed_hits bigint NOT NULL,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL,
  state smallint NOT NULL,
  state_by bytea NOT NULL,
  state_changed_ms bigint NOT NULL,
  state_note bytea NOT NULL,
  retroactive boolean NOT NULL
);
CREATE INDEX alerts_by_key ON alerts (measure_id, account, ip, created_ms);
CREATE INDEX alerts_by_account ON alerts (account, id);
CREATE TABLE alert_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id bigint NOT NULL,
  sink bytea NOT NULL,
  attempts integer NOT NULL,
  next_attempt_ms bigint NOT NULL,
  leased_until_ms bigint NOT NULL,
  last_error bytea NOT NULL
);
CREATE INDEX alert_outbox_by_sink ON alert_outbox (sink, id);
)sql";

constexpr std::array<const char*, 1> kMigrations = {kV1};

// pg_advisory_xact_lock key: "ipalerts" in ASCII. The ledger's key differs,
// so the two stores' migrations never wait for each other.
constexpr const char kLockKey[] = "7597679689560388723";

Status read_version(PostgresConnection& c, int& version) {
  PgResult r(
      PQexecParams(c.raw(), "SELECT version FROM alerts_schema_version", 0, nullptr, nullptr, nullptr, nullptr, 1));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return Status::error(fmt::format("reading alert schema version: {}", PQresultErrorMessage(r.get())));
  }
  if (r.rows() != 1) return Status::error("alerts_schema_version must hold one row");
  version = static_cast<int>(r.int_at(0, 0));
  return Status::ok();
}

Status migrate_locked(PostgresConnection& c) {
  const std::string lock = fmt::format("SELECT pg_advisory_xact_lock({})", kLockKey);
  for (const char* sql : {lock.c_str(), "CREATE TABLE IF NOT EXISTS alerts_schema_version (version integer NOT NULL)",
                          "INSERT INTO alerts_schema_version SELECT 0 WHERE NOT EXISTS "
                          "(SELECT 1 FROM alerts_schema_version)"}) {
    if (Status s = c.exec(sql); !s) return s;
  }
  int version = 0;
  if (Status s = read_version(c, version); !s) return s;
  if (version > postgres_alerts_latest_version()) {
    return Status::error(fmt::format("alert schema version {} is newer than this program's {}; refusing to open",
                                     version, postgres_alerts_latest_version()));
  }
  for (int next = version; next < postgres_alerts_latest_version(); ++next) {
    if (Status s = c.exec(kMigrations[static_cast<std::size_t>(next)]); !s) {
      return Status::error(fmt::format("alert schema migration to version {} failed: {}", next + 1, s.message()));
    }
  }
  const std::string set =
      fmt::format("UPDATE alerts_schema_version SET version = {}", postgres_alerts_latest_version());
  return c.exec(set.c_str());
}

}  // namespace

int postgres_alerts_latest_version() { return static_cast<int>(kMigrations.size()); }

Status migrate_postgres_alerts(PostgresConnection& connection) {
  if (Status s = connection.exec("BEGIN"); !s) return s;
  Status s = migrate_locked(connection);
  if (s) s = connection.exec("COMMIT");
  if (!s) connection.exec("ROLLBACK");
  return s;
}

}  // namespace ipattrib::collector
