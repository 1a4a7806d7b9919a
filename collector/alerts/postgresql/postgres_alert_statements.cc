#include "collector/alerts/postgresql/postgres_alert_statements.h"

#include <fmt/format.h>

namespace ipattrib::collector {
namespace {

// Read by read_pg_alert(), in this order.
constexpr const char kColumns[] =
    "id, measure_id, measure_title, severity, reason, account, ip, access_class, country, registered_country, "
    "subdivision, asn, as_org, anonymizer_flags, db_build_epoch, gateway, first_access_ms, hit_last_access_ms, "
    "hit_count, last_access_ms, access_count, suppressed_hits, created_ms, updated_ms, state, state_by, "
    "state_changed_ms, state_note, retroactive";

}  // namespace

std::vector<std::pair<std::string, std::string>> postgres_alert_statements() {
  const std::string select = fmt::format("SELECT {} FROM alerts ", kColumns);
  const std::string list_filters =
      "WHERE id < $1::bigint AND ($2::integer < 0 OR state = $2::integer) AND severity <= $3::integer "
      "AND (length($4::bytea) = 0 OR measure_id = $4::bytea) AND created_ms >= $5::bigint "
      "AND created_ms <= $6::bigint ";
  return {
      // The batch's claim on its sequence: a row only when the sequence is
      // above the agent's highest. The row stays locked until commit, so a
      // second collector recording the same batch waits, then finds it done.
      {"claim_sequence",
       "INSERT INTO alert_sequences AS a (agent_id, highest_sequence, updated_ms) "
       "VALUES ($1::bytea, $2::bigint, $3::bigint) ON CONFLICT (agent_id) DO UPDATE SET "
       "highest_sequence = excluded.highest_sequence, updated_ms = excluded.updated_ms "
       "WHERE a.highest_sequence < excluded.highest_sequence RETURNING 1"},
      {"select_sequence", "SELECT highest_sequence FROM alert_sequences WHERE agent_id = $1::bytea"},
      // Keys arrive sorted: taken in array order, so two transactions never
      // wait for each other's keys in opposite orders.
      {"lock_keys",
       fmt::format("SELECT pg_advisory_xact_lock({}, k) FROM unnest($1::integer[]) AS k", kPgDedupLockClass)},
      {"find_recent",
       "SELECT id FROM alerts WHERE measure_id = $1::bytea AND account = $2::bytea AND ip = $3::inet "
       "AND created_ms > $4::bigint ORDER BY created_ms DESC, id DESC LIMIT 1"},
      {"fold_hit",
       "UPDATE alerts SET access_count = access_count + $2::bigint, last_access_ms = greatest(last_access_ms, "
       "$3::bigint), first_access_ms = least(first_access_ms, $5::bigint), suppressed_hits = suppressed_hits + 1, "
       "updated_ms = $4::bigint WHERE id = $1::bigint"},
      {"insert_alert",
       "INSERT INTO alerts (measure_id, measure_title, severity, reason, account, ip, access_class, country, "
       "registered_country, subdivision, asn, as_org, anonymizer_flags, db_build_epoch, gateway, first_access_ms, "
       "hit_last_access_ms, hit_count, last_access_ms, access_count, suppressed_hits, created_ms, updated_ms, state, "
       "state_by, state_changed_ms, state_note, retroactive) VALUES ($1::bytea, $2::bytea, $3::smallint, $4::bytea, "
       "$5::bytea, $6::inet, $7::smallint, $8::bytea, $9::bytea, $10::bytea, $11::bigint, $12::bytea, $13::smallint, "
       "$14::bigint, $15::bytea, $16::bigint, $17::bigint, $18::bigint, $17::bigint, $18::bigint, 0, $19::bigint, "
       "$19::bigint, 0, ''::bytea, 0, ''::bytea, $20::boolean) RETURNING id"},
      {"insert_outbox",
       "INSERT INTO alert_outbox (alert_id, sink, attempts, next_attempt_ms, leased_until_ms, last_error) "
       "SELECT $1::bigint, s, 0, $3::bigint, 0, ''::bytea FROM unnest($2::bytea[]) AS s"},
      {"get_alert", select + "WHERE id = $1::bigint"},
      {"list_any", select + list_filters + "ORDER BY id DESC LIMIT $7::bigint"},
      {"list_account", select + list_filters + "AND account = $8::bytea ORDER BY id DESC LIMIT $7::bigint"},
      // Forward only, in one statement: of two analysts acting at once the
      // second sees the first's state and goes through only if it is later.
      {"advance_state",
       "UPDATE alerts SET state = $2::smallint, state_by = $3::bytea, state_note = $4::bytea, "
       "state_changed_ms = $5::bigint, updated_ms = $5::bigint WHERE id = $1::bigint AND state < $2::smallint "
       "RETURNING 1"},
      {"select_state", "SELECT state FROM alerts WHERE id = $1::bigint"},
      // SKIP LOCKED: a row another collector is claiming right now is
      // passed over, not waited for; once that claim commits, the row's
      // lease excludes it when rechecked. Two claimers never get one row.
      {"claim_outbox",
       "UPDATE alert_outbox AS o SET leased_until_ms = $3::bigint FROM (SELECT id FROM alert_outbox "
       "WHERE sink = $1::bytea AND next_attempt_ms <= $2::bigint AND leased_until_ms <= $2::bigint "
       "ORDER BY id LIMIT $4::bigint FOR UPDATE SKIP LOCKED) AS due WHERE o.id = due.id "
       "RETURNING o.id, o.alert_id, o.sink, o.attempts, o.next_attempt_ms, o.leased_until_ms, o.last_error"},
      {"delete_outbox", "DELETE FROM alert_outbox WHERE id = $1::bigint"},
      {"fail_outbox",
       "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_ms = $2::bigint, last_error = $3::bytea, "
       "leased_until_ms = 0 WHERE id = $1::bigint"},
      {"release_outbox", "UPDATE alert_outbox SET leased_until_ms = 0 WHERE id = $1::bigint"},
      {"outbox_depth", "SELECT count(*) FROM alert_outbox WHERE sink = $1::bytea"},
  };
}

Alert read_pg_alert(const PgResult& r, int row) {
  Alert a;
  AlertHit& h = a.first_hit;
  a.id = r.int_at(row, 0);
  h.measure_id = r.string_at(row, 1);
  h.measure_title = r.string_at(row, 2);
  h.severity = static_cast<Severity>(r.int_at(row, 3));
  h.reason = r.string_at(row, 4);
  h.account = r.string_at(row, 5);
  h.ip = r.inet_at(row, 6);
  h.access_class = static_cast<RecordClass>(r.int_at(row, 7));
  h.geo.country = r.string_at(row, 8);
  h.geo.registered_country = r.string_at(row, 9);
  h.geo.subdivision = r.string_at(row, 10);
  h.geo.asn = static_cast<std::uint32_t>(r.int_at(row, 11));
  h.geo.as_org = r.string_at(row, 12);
  h.geo.anonymizer_flags = static_cast<std::uint8_t>(r.int_at(row, 13));
  h.geo.db_build_epoch = r.int_at(row, 14);
  h.gateway = r.string_at(row, 15);
  h.first_access_ms = r.int_at(row, 16);
  h.last_access_ms = r.int_at(row, 17);
  h.count = static_cast<std::uint64_t>(r.int_at(row, 18));
  a.last_access_ms = r.int_at(row, 19);
  a.count = static_cast<std::uint64_t>(r.int_at(row, 20));
  a.suppressed_hits = static_cast<std::uint64_t>(r.int_at(row, 21));
  a.created_ms = r.int_at(row, 22);
  a.updated_ms = r.int_at(row, 23);
  a.state = static_cast<AlertState>(r.int_at(row, 24));
  a.state_by = r.string_at(row, 25);
  a.state_changed_ms = r.int_at(row, 26);
  a.state_note = r.string_at(row, 27);
  a.retroactive = r.bool_at(row, 28);
  return a;
}

OutboxEntry read_pg_outbox_entry(const PgResult& r, int row) {
  OutboxEntry e;
  e.id = r.int_at(row, 0);
  e.alert_id = r.int_at(row, 1);
  e.sink = r.string_at(row, 2);
  e.attempts = static_cast<std::uint32_t>(r.int_at(row, 3));
  e.next_attempt_ms = r.int_at(row, 4);
  e.leased_until_ms = r.int_at(row, 5);
  e.last_error = r.string_at(row, 6);
  return e;
}

}  // namespace ipattrib::collector
