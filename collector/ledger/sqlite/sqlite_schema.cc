#include "collector/ledger/sqlite/sqlite_schema.h"

#include <fmt/format.h>

#include <array>

#include "collector/ledger/sqlite/sqlite_statement.h"

namespace ipattrib::collector {
namespace {

// Why this shape (measured in bench/ledger_bench.cc):
// - IPs are 16-byte blobs (IPv4 mapped) plus a family, so a CIDR is one blob
//   range on summaries_by_ip for both families.
// - Accesses are chunks of delta-varint times (access_time_codec.h) appended
//   per (summary, gateway): one or two bytes per access, not a row each.
//   A chunk holds at most kMaxChunkAccesses and spans at most kMaxChunkSpanMs
//   (sqlite_ledger.h), which bounds an append's rewrite and lets a time range
//   seek on (summary_id, first_ms).
// - Strings (account, gateway, geo) are blobs: stored and compared byte for
//   byte, embedded NULs included.
constexpr const char kV1[] = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (0);
CREATE TABLE agent_sequences (
  agent_id BLOB PRIMARY KEY,
  highest_sequence INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE gateways (id INTEGER PRIMARY KEY, name BLOB NOT NULL UNIQUE);
CREATE TABLE summaries (
  id INTEGER PRIMARY KEY,
  account BLOB NOT NULL,
  ip BLOB NOT NULL,
  ip_family INTEGER NOT NULL,
  access_class INTEGER NOT NULL,
  ip_source INTEGER NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  access_count INTEGER NOT NULL,
  f_country BLOB NOT NULL, f_registered_country BLOB NOT NULL, f_subdivision BLOB NOT NULL,
  f_asn INTEGER NOT NULL, f_as_org BLOB NOT NULL, f_anonymizer_flags INTEGER NOT NULL,
  f_db_build_epoch INTEGER NOT NULL,
  l_country BLOB NOT NULL, l_registered_country BLOB NOT NULL, l_subdivision BLOB NOT NULL,
  l_asn INTEGER NOT NULL, l_as_org BLOB NOT NULL, l_anonymizer_flags INTEGER NOT NULL,
  l_db_build_epoch INTEGER NOT NULL,
  UNIQUE (account, ip, ip_family, access_class)
);
CREATE INDEX summaries_by_ip ON summaries (ip, ip_family, account);
CREATE TABLE summary_gateways (
  summary_id INTEGER NOT NULL,
  gateway_id INTEGER NOT NULL,
  PRIMARY KEY (summary_id, gateway_id)
) WITHOUT ROWID;
CREATE TABLE access_chunks (
  id INTEGER PRIMARY KEY,
  summary_id INTEGER NOT NULL,
  gateway_id INTEGER NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  n INTEGER NOT NULL,
  times BLOB NOT NULL
);
CREATE INDEX access_chunks_by_summary ON access_chunks (summary_id, first_ms);
)sql";

// v2: the principal (user) behind an account's requests, where the request
// reveals one.
constexpr const char kV2[] = R"sql(
ALTER TABLE summaries ADD COLUMN last_principal BLOB NOT NULL DEFAULT x'';
)sql";

constexpr std::array<const char*, 2> kMigrations = {kV1, kV2};

}  // namespace

std::span<const char* const> sqlite_ledger_migrations() { return kMigrations; }

int sqlite_ledger_latest_version() { return static_cast<int>(kMigrations.size()); }

Status read_sqlite_ledger_version(sqlite3* db, int& version) {
  version = 0;
  SqliteStatement exists;
  if (Status s = exists.prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
      !s) {
    return s;
  }
  if (exists.step() != SQLITE_ROW) return Status::ok();
  SqliteStatement read;
  if (Status s = read.prepare(db, "SELECT version FROM schema_version"); !s) return s;
  if (read.step() != SQLITE_ROW) return Status::error("ledger schema_version table is empty");
  version = static_cast<int>(read.column_int(0));
  return Status::ok();
}

Status migrate_sqlite_ledger(sqlite3* db) {
  int version = 0;
  if (Status s = read_sqlite_ledger_version(db, version); !s) return s;
  if (version > sqlite_ledger_latest_version()) {
    return Status::error(fmt::format("ledger schema version {} is newer than this program's {}; refusing to open",
                                     version, sqlite_ledger_latest_version()));
  }
  for (int next = version; next < sqlite_ledger_latest_version(); ++next) {
    // IMMEDIATE: two collectors opening one new file must not both migrate.
    if (Status s = sqlite_exec(db, "BEGIN IMMEDIATE"); !s) return s;
    int current = 0;
    Status s = read_sqlite_ledger_version(db, current);
    if (s && current == next) s = sqlite_exec(db, kMigrations[static_cast<std::size_t>(next)]);
    if (s && current == next) {
      s = sqlite_exec(db, fmt::format("UPDATE schema_version SET version = {}", next + 1).c_str());
    }
    if (s) s = sqlite_exec(db, "COMMIT");
    if (!s) {
      sqlite_exec(db, "ROLLBACK");
      return Status::error(fmt::format("ledger migration to version {} failed: {}", next + 1, s.message()));
    }
  }
  return Status::ok();
}

}  // namespace ipattrib::collector
