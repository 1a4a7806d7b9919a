#include "collector/ledger/postgresql/postgres_ledger_statements.h"

#include <fmt/format.h>

namespace ipattrib::collector {
namespace {

constexpr const char* kGeoColumns[] = {"country", "registered_country", "subdivision",   "asn",
                                       "as_org",  "anonymizer_flags",   "db_build_epoch"};

// Inserts a round of summaries (distinct keys, in key order so concurrent
// collectors lock rows in one order) or folds each into the existing one
// with the SQLite store's rules: geo at first sight changes only for an
// earlier record, geo at last sight only for a later one.
std::string upsert_summaries_sql() {
  std::string sql =
      "INSERT INTO ledger_summaries AS s (account, ip, access_class, ip_source, first_seen_ms, last_seen_ms, "
      "access_count, f_country, f_registered_country, f_subdivision, f_asn, f_as_org, f_anonymizer_flags, "
      "f_db_build_epoch, l_country, l_registered_country, l_subdivision, l_asn, l_as_org, l_anonymizer_flags, "
      "l_db_build_epoch, last_principal) "
      "SELECT account, ip, access_class, ip_source, first_ms, last_ms, n, country, reg, sub, asn, org, flags, epoch, "
      "country, reg, sub, asn, org, flags, epoch, principal FROM unnest($1::bytea[], $2::inet[], $3::smallint[], "
      "$4::smallint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bytea[], $9::bytea[], $10::bytea[], "
      "$11::bigint[], $12::bytea[], $13::smallint[], $14::bigint[], $15::bytea[]) WITH ORDINALITY AS u(account, ip, "
      "access_class, ip_source, first_ms, last_ms, n, country, reg, sub, asn, org, flags, epoch, principal, ord) "
      "ORDER BY ord ON CONFLICT (account, ip, access_class) DO UPDATE SET "
      "access_count = s.access_count + excluded.access_count";
  for (const char* c : kGeoColumns) {
    sql += fmt::format(
        ", f_{0} = CASE WHEN excluded.first_seen_ms < s.first_seen_ms THEN excluded.f_{0} ELSE s.f_{0} END", c);
    sql += fmt::format(
        ", l_{0} = CASE WHEN excluded.last_seen_ms >= s.last_seen_ms THEN excluded.l_{0} ELSE s.l_{0} END", c);
  }
  sql +=
      ", ip_source = CASE WHEN excluded.last_seen_ms >= s.last_seen_ms THEN excluded.ip_source ELSE s.ip_source END"
      ", last_principal = CASE WHEN excluded.last_seen_ms >= s.last_seen_ms AND length(excluded.last_principal) > 0 "
      "THEN excluded.last_principal ELSE s.last_principal END"
      ", first_seen_ms = least(s.first_seen_ms, excluded.first_seen_ms)"
      ", last_seen_ms = greatest(s.last_seen_ms, excluded.last_seen_ms)"
      " RETURNING id, account, ip, access_class, (xmax = 0) AS created";
  return sql;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> postgres_ledger_statements() {
  const std::string select = fmt::format("SELECT {} FROM ledger_summaries ", kPgSummaryColumns);
  return {
      // The batch's claim on its sequence: a row only when the sequence is
      // above the agent's highest. The row stays locked until commit, so a
      // second collector applying the same batch waits, then finds it done.
      {"claim_sequence",
       "INSERT INTO ledger_agent_sequences AS a (agent_id, highest_sequence) VALUES ($1::bytea, $2::bigint) "
       "ON CONFLICT (agent_id) DO UPDATE SET highest_sequence = excluded.highest_sequence, updated_at = now() "
       "WHERE a.highest_sequence < excluded.highest_sequence RETURNING 1"},
      {"select_sequence", "SELECT highest_sequence FROM ledger_agent_sequences WHERE agent_id = $1::bytea"},
      {"insert_gateways",
       "INSERT INTO ledger_gateways (name) SELECT unnest($1::bytea[]) ON CONFLICT (name) DO NOTHING"},
      {"select_gateways", "SELECT id, name FROM ledger_gateways WHERE name = ANY($1::bytea[])"},
      {"select_gateway_name", "SELECT name FROM ledger_gateways WHERE id = $1::integer"},
      {"upsert_summaries", upsert_summaries_sql()},
      {"insert_summary_gateways",
       "INSERT INTO ledger_summary_gateways (summary_id, gateway_id) "
       "SELECT * FROM unnest($1::bigint[], $2::integer[]) ON CONFLICT DO NOTHING"},
      // The chunk new times of (summary, gateway) could extend: the latest
      // one that started within a chunk span of them.
      {"select_open_chunks",
       "SELECT DISTINCT ON (k.summary_id) k.summary_id, c.id, c.first_ms, c.last_ms, c.n "
       "FROM unnest($1::bigint[], $2::integer[], $3::bigint[]) AS k(summary_id, gateway_id, since) "
       "JOIN ledger_access_chunks AS c ON c.summary_id = k.summary_id AND c.gateway_id = k.gateway_id "
       "AND c.first_ms >= k.since ORDER BY k.summary_id, c.first_ms DESC, c.id DESC"},
      {"append_chunks",
       "UPDATE ledger_access_chunks AS c SET times = c.times || u.bytes, last_ms = u.last_ms, n = c.n + u.n "
       "FROM unnest($1::bigint[], $2::bytea[], $3::bigint[], $4::integer[]) AS u(id, bytes, last_ms, n) "
       "WHERE c.id = u.id"},
      {"insert_chunks",
       "INSERT INTO ledger_access_chunks (summary_id, gateway_id, first_ms, last_ms, n, times) "
       "SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[], $5::integer[], $6::bytea[])"},
      {"account_exists", "SELECT 1 FROM ledger_summaries WHERE account = $1::bytea LIMIT 1"},
      {"account_ips", select +
                          "WHERE account = $1::bytea AND last_seen_ms >= $2::bigint AND first_seen_ms <= $3::bigint "
                          "AND ($4::integer < 0 OR access_class = $4::integer) "
                          "AND (length($5::bytea) = 0 OR f_country = $5::bytea OR l_country = $5::bytea) "
                          "ORDER BY ip, access_class LIMIT $6::bigint OFFSET $7::bigint"},
      // ip <<= network walks the GiST inet_ops index.
      {"network_accounts", select +
                               "WHERE ip <<= $1::inet AND last_seen_ms >= $2::bigint AND first_seen_ms <= $3::bigint "
                               "ORDER BY ip, account, access_class LIMIT $4::bigint OFFSET $5::bigint"},
      {"scan_first", select + "ORDER BY account, ip, access_class LIMIT $1::bigint"},
      {"scan_next", select + "WHERE (account, ip, access_class) > ($1::bytea, $2::inet, $3::smallint) "
                             "ORDER BY account, ip, access_class LIMIT $4::bigint"},
      {"summary_gateway_names",
       "SELECT sg.summary_id, g.name FROM ledger_summary_gateways AS sg JOIN ledger_gateways AS g "
       "ON g.id = sg.gateway_id WHERE sg.summary_id = ANY($1::bigint[]) ORDER BY sg.summary_id, g.name"},
      // The bounds of an account's chunks that may hold accesses in
      // [since, until], in first_ms order: small rows, so sorting a long
      // history is cheap; the times are read by id for the chunks a page needs.
      {"account_chunk_bounds",
       "SELECT c.id, c.first_ms, c.last_ms, c.n "
       "FROM ledger_summaries AS s JOIN ledger_access_chunks AS c ON c.summary_id = s.id "
       "WHERE s.account = $1::bytea AND ($2::inet IS NULL OR s.ip = $2::inet) "
       "AND ($3::integer < 0 OR s.access_class = $3::integer) "
       "AND s.last_seen_ms >= $4::bigint AND s.first_seen_ms <= $5::bigint "
       "AND c.first_ms >= $6::bigint AND c.first_ms <= $5::bigint AND c.last_ms >= $4::bigint "
       "ORDER BY c.first_ms, c.id"},
      {"chunks_by_id",
       "SELECT s.ip, s.access_class, c.gateway_id, c.first_ms, c.n, c.times, c.id "
       "FROM ledger_access_chunks AS c JOIN ledger_summaries AS s ON s.id = c.summary_id "
       "WHERE c.id = ANY($1::bigint[])"},
      {"ensure_chunk_partitions", "SELECT ledger_ensure_chunk_partitions($1::bigint[])"},
      {"drop_chunk_partitions", "SELECT partitions, accesses FROM ledger_drop_chunk_partitions($1::bigint)"},
      // first_ms < cutoff (implied by last_ms < cutoff) prunes the partitions
      // that start after it.
      {"delete_old_chunks",
       "WITH d AS (DELETE FROM ledger_access_chunks WHERE first_ms < $1::bigint AND last_ms < $1::bigint RETURNING n) "
       "SELECT coalesce(sum(n), 0)::bigint FROM d"},
      {"straddling_chunks",
       "SELECT id, first_ms, n, times FROM ledger_access_chunks WHERE first_ms < $1::bigint AND last_ms >= $1::bigint "
       "ORDER BY id FOR UPDATE"},
      {"rewrite_chunk",
       "UPDATE ledger_access_chunks SET first_ms = $2::bigint, n = $3::integer, times = $4::bytea "
       "WHERE id = $1::bigint"},
      {"delete_old_summary_gateways",
       "DELETE FROM ledger_summary_gateways WHERE summary_id IN "
       "(SELECT id FROM ledger_summaries WHERE last_seen_ms < $1::bigint)"},
      {"delete_old_summaries", "DELETE FROM ledger_summaries WHERE last_seen_ms < $1::bigint"},
  };
}

}  // namespace ipattrib::collector
