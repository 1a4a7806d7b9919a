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

// v2: access chunks in a table range-partitioned by calendar month (UTC) of
// first_ms, so retention drops a month as one catalog change instead of
// deleting its rows one by one (and vacuuming them afterwards).
// - first_ms is the partition key because it never changes while a chunk
//   takes appends (last_ms does); a chunk spans at most a day, so a month
//   whose end is before the cutoff holds whole chunks older than it, except
//   one that started in its last day, which the drop checks for.
// - ids come from a sequence: PostgreSQL 15 has no identity columns on
//   partitioned tables. The primary key must hold the partition key.
// - ledger_chunk_partitions lists the month partitions and their bounds, so
//   retention finds the droppable ones without parsing catalog bounds.
// - Partitions are created on demand by ledger_ensure_chunk_partitions and
//   dropped by ledger_drop_chunk_partitions, both under one advisory lock so
//   collectors creating and dropping at once take turns. Times outside years
//   1..9999 (a broken agent clock) go to two fixed partitions, never dropped.
//   There is no default partition: a chunk for a month without a partition
//   (another collector just dropped it) fails with 23514 and the batch is
//   applied again after creating it, where a default partition would hide
//   the row and then refuse the month's partition.
// - The month arithmetic lives only here in SQL; the store's cache of
//   existing months (postgres_chunk_months.h) only decides whether to ask.
// - v1's chunks are copied over with their ids, so cursors stay valid.
constexpr const char kV2[] = R"sql(
ALTER TABLE ledger_access_chunks RENAME TO ledger_access_chunks_v1;
ALTER INDEX ledger_access_chunks_by_summary RENAME TO ledger_access_chunks_v1_by_summary;
CREATE SEQUENCE ledger_access_chunk_ids;
CREATE TABLE ledger_access_chunks (
  id bigint NOT NULL DEFAULT nextval('ledger_access_chunk_ids'),
  summary_id bigint NOT NULL,
  gateway_id integer NOT NULL,
  first_ms bigint NOT NULL,
  last_ms bigint NOT NULL,
  n integer NOT NULL,
  times bytea NOT NULL,
  PRIMARY KEY (id, first_ms)
) PARTITION BY RANGE (first_ms);
ALTER SEQUENCE ledger_access_chunk_ids OWNED BY ledger_access_chunks.id;
CREATE INDEX ledger_access_chunks_by_summary ON ledger_access_chunks (summary_id, first_ms);
CREATE TABLE ledger_access_chunks_before_year_1 PARTITION OF ledger_access_chunks
  FOR VALUES FROM (MINVALUE) TO (-62135596800000);
CREATE TABLE ledger_access_chunks_from_year_10000 PARTITION OF ledger_access_chunks
  FOR VALUES FROM (253402300800000) TO (MAXVALUE);
CREATE TABLE ledger_chunk_partitions (
  name text PRIMARY KEY,
  lo bigint NOT NULL,
  hi bigint NOT NULL
);
CREATE FUNCTION ledger_ensure_chunk_partitions(times bigint[]) RETURNS integer LANGUAGE plpgsql AS $f$
DECLARE
  m timestamp;
  lo bigint;
  hi bigint;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7597679724171782499);
  FOR m IN
    SELECT DISTINCT date_trunc('month', to_timestamp(floor(t / 1000.0)::float8) AT TIME ZONE 'UTC')
    FROM unnest(times) AS t WHERE t >= -62135596800000 AND t < 253402300800000
  LOOP
    part := 'ledger_access_chunks_' || to_char(m, 'YYYYMM');
    CONTINUE WHEN EXISTS (SELECT 1 FROM ledger_chunk_partitions AS p WHERE p.name = part);
    lo := (extract(epoch FROM m) * 1000)::bigint;
    hi := (extract(epoch FROM m + interval '1 month') * 1000)::bigint;
    EXECUTE format('CREATE TABLE %I PARTITION OF ledger_access_chunks FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
    INSERT INTO ledger_chunk_partitions (name, lo, hi) VALUES (part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END
$f$;
CREATE FUNCTION ledger_drop_chunk_partitions(cutoff bigint, OUT partitions integer, OUT accesses bigint)
LANGUAGE plpgsql AS $f$
DECLARE
  part text;
  total bigint;
  straddles boolean;
BEGIN
  partitions := 0;
  accesses := 0;
  PERFORM pg_advisory_xact_lock(7597679724171782499);
  IF NOT EXISTS (SELECT 1 FROM ledger_chunk_partitions WHERE hi <= cutoff) THEN
    RETURN;
  END IF;
  -- No batch may add to a partition between its count and its drop.
  LOCK TABLE ledger_access_chunks IN ACCESS EXCLUSIVE MODE;
  FOR part IN SELECT name FROM ledger_chunk_partitions WHERE hi <= cutoff ORDER BY lo LOOP
    EXECUTE format('SELECT coalesce(sum(n), 0)::bigint, coalesce(bool_or(last_ms >= $1), false) FROM %I', part)
      INTO total, straddles USING cutoff;
    CONTINUE WHEN straddles;  -- a chunk reaching past the cutoff: the row path trims it
    EXECUTE format('DROP TABLE %I', part);
    DELETE FROM ledger_chunk_partitions WHERE name = part;
    partitions := partitions + 1;
    accesses := accesses + total;
  END LOOP;
END
$f$;
SELECT ledger_ensure_chunk_partitions(
  ARRAY(SELECT min(first_ms) FROM ledger_access_chunks_v1 GROUP BY floor(first_ms / 86400000.0)));
INSERT INTO ledger_access_chunks (id, summary_id, gateway_id, first_ms, last_ms, n, times)
  SELECT id, summary_id, gateway_id, first_ms, last_ms, n, times FROM ledger_access_chunks_v1;
SELECT setval('ledger_access_chunk_ids', coalesce((SELECT max(id) FROM ledger_access_chunks_v1), 0) + 1, false);
DROP TABLE ledger_access_chunks_v1;
)sql";

constexpr std::array<const char*, 2> kMigrations = {kV1, kV2};

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

Status migrate_locked(PostgresConnection& c, int target_version) {
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
  for (int next = version; next < target_version; ++next) {
    if (Status s = c.exec(kMigrations[static_cast<std::size_t>(next)]); !s) {
      return Status::error(fmt::format("ledger migration to version {} failed: {}", next + 1, s.message()));
    }
  }
  if (version >= target_version) return Status::ok();
  const std::string set = fmt::format("UPDATE ledger_schema_version SET version = {}", target_version);
  return c.exec(set.c_str());
}

}  // namespace

int postgres_ledger_latest_version() { return static_cast<int>(kMigrations.size()); }

Status migrate_postgres_ledger(PostgresConnection& connection) {
  return migrate_postgres_ledger(connection, postgres_ledger_latest_version());
}

Status migrate_postgres_ledger(PostgresConnection& connection, int target_version) {
  if (target_version < 1 || target_version > postgres_ledger_latest_version()) {
    return Status::error(fmt::format("no ledger schema version {}", target_version));
  }
  if (Status s = connection.exec("BEGIN"); !s) return s;
  Status s = migrate_locked(connection, target_version);
  if (s) s = connection.exec("COMMIT");
  if (!s) connection.exec("ROLLBACK");
  return s;
}

}  // namespace ipattrib::collector
