#include "collector/ledger/postgresql/postgres_schema.h"

#include <fmt/format.h>

#include <array>

namespace ipattrib::collector {
namespace {

// Why this shape:
// - Strings (account, agent, gateway, geo, principal) are bytea: stored and
//   compared byte for byte like the SQLite store's blobs; text would refuse
//   NUL bytes and invalid UTF-8 that a hostile request can carry.
// - The address is inet (v4 and v6 are distinct families, so a mapped
//   ::ffff:a.b.c.d is not the v4 address) with a GiST inet_ops index: an
//   IP or CIDR lookup (ip <<= $1) walks the index instead of the table.
// - Accesses are chunks of delta-varint times (access_time_codec.h) per
//   (summary, gateway), bounded like the SQLite store's: one or two bytes per
//   access instead of a row each, appended under the summary's row lock.
// - The per-agent highest batch sequence is a row updated in the batch's own
//   transaction, so any collector sharing the database can apply a
//   retransmission and still apply it exactly once.
// - Tables are prefixed ledger_ because the alert store shares the database.
constexpr const char kV1[] = R"sql(
CREATE TABLE ledger_agent_sequences (
  agent_id bytea PRIMARY KEY,
  highest_sequence bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ledger_gateways (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name bytea NOT NULL UNIQUE
);
CREATE TABLE ledger_summaries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account bytea NOT NULL,
  ip inet NOT NULL,
  access_class smallint NOT NULL,
  ip_source smallint NOT NULL,
  first_seen_ms bigint NOT NULL,
  last_seen_ms bigint NOT NULL,
  access_count bigint NOT NULL,
  f_country bytea NOT NULL, f_registered_country bytea NOT NULL, f_subdivision bytea NOT NULL,
  f_asn bigint NOT NULL, f_as_org bytea NOT NULL, f_anonymizer_flags smallint NOT NULL,
  f_db_build_epoch bigint NOT NULL,
  l_country bytea NOT NULL, l_registered_country bytea NOT NULL, l_subdivision bytea NOT NULL,
  l_asn bigint NOT NULL, l_as_org bytea NOT NULL, l_anonymizer_flags smallint NOT NULL,
  l_db_build_epoch bigint NOT NULL,
  last_principal bytea NOT NULL,
  UNIQUE (account, ip, access_class)
);
CREATE INDEX ledger_summaries_by_ip ON ledger_summaries USING gist (ip inet_ops);
CREATE TABLE ledger_summary_gateways (
  summary_id bigint NOT NULL,
  gateway_id integer NOT NULL,
  PRIMARY KEY (summary_id, gateway_id)
);
CREATE TABLE ledger_access_chunks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  summary_id bigint NOT NULL,
  gateway_id integer NOT NULL,
  first_ms bigint NOT NULL,
  last_ms bigint NOT NULL,
  n integer NOT NULL,
  times bytea NOT NULL
);
CREATE INDEX ledger_access_chunks_by_summary ON ledger_access_chunks (summary_id, first_ms);
)sql";

constexpr std::array<const char*, 1> kMigrations = {kV1};

// pg_advisory_xact_lock key: "ipattrib" in ASCII, shared by every collector.
constexpr const char kLockKey[] = "7597679724171782498";

Status read_version(PostgresConnection& c, int& version) {
  PgResult r(
      PQexecParams(c.raw(), "SELECT version FROM ledger_schema_version", 0, nullptr, nullptr, nullptr, nullptr, 1));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return Status::error(fmt::format("reading ledger schema version: {}", PQresultErrorMessage(r.get())));
  }
  if (r.rows() != 1) return Status::error("ledger_schema_version must hold one row");
  version = static_cast<int>(r.int_at(0, 0));
  return Status::ok();
}

Status migrate_locked(PostgresConnection& c) {
  const std::string lock = fmt::format("SELECT pg_advisory_xact_lock({})", kLockKey);
  for (const char* sql : {lock.c_str(), "CREATE TABLE IF NOT EXISTS ledger_schema_version (version integer NOT NULL)",
                          "INSERT INTO ledger_schema_version SELECT 0 WHERE NOT EXISTS "
                          "(SELECT 1 FROM ledger_schema_version)"}) {
    if (Status s = c.exec(sql); !s) return s;
  }
  int version = 0;
  if (Status s = read_version(c, version); !s) return s;
  if (version > postgres_ledger_latest_version()) {
    return Status::error(fmt::format("ledger schema version {} is newer than this program's {}; refusing to open",
                                     version, postgres_ledger_latest_version()));
  }
  for (int next = version; next < postgres_ledger_latest_version(); ++next) {
    if (Status s = c.exec(kMigrations[static_cast<std::size_t>(next)]); !s) {
      return Status::error(fmt::format("ledger migration to version {} failed: {}", next + 1, s.message()));
    }
  }
  const std::string set =
      fmt::format("UPDATE ledger_schema_version SET version = {}", postgres_ledger_latest_version());
  return c.exec(set.c_str());
}

}  // namespace

int postgres_ledger_latest_version() { return static_cast<int>(kMigrations.size()); }

Status migrate_postgres_ledger(PostgresConnection& connection) {
  if (Status s = connection.exec("BEGIN"); !s) return s;
  Status s = migrate_locked(connection);
  if (s) s = connection.exec("COMMIT");
  if (!s) connection.exec("ROLLBACK");
  return s;
}

}  // namespace ipattrib::collector
