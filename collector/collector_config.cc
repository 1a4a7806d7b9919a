#include "collector/collector_config.h"

#include <unistd.h>

#include <tuple>

namespace ipattrib::collector {
namespace {

const toml::table kEmptySection;

const toml::table& section_or_empty(const toml::table& root, std::string_view name, ConfigErrors& errors) {
  const toml::table* section = errors.get_table(root, name);
  return section != nullptr ? *section : kEmptySection;
}

// The TLS files must be readable now: finding out at the first agent
// connection (or never, for an idle collector) is too late.
void check_readable(const toml::table& section, std::string_view key, std::string_view where, ConfigErrors& errors) {
  const toml::node* node = section.get(key);
  const std::optional<std::string> path = node != nullptr ? node->value<std::string>() : std::nullopt;
  if (!path || path->empty()) return;
  if (::access(path->c_str(), R_OK) != 0) {
    errors.add_at(*node, std::string(where) + " " + std::string(key) + ": cannot read '" + *path + "'");
  }
}

// A query-only collector ([ingest] enabled = false) runs no alert engine and
// no retention job (see docs/collector.md): settings for those would silently
// do nothing, so they are errors at their line.
void reject_ingest_only_settings(const toml::table& root, ConfigErrors& errors) {
  const std::string why = " has no effect with [ingest] enabled = false";
  if (const toml::table* policy = root["policy"].as_table()) {
    const toml::node* path = policy->get("path");
    const std::optional<std::string> value = path != nullptr ? path->value<std::string>() : std::nullopt;
    if (value && !value->empty()) {
      errors.add_at(*path, "[policy] path" + why + " (a query-only collector screens no accesses); remove it");
    }
  }
  if (const toml::table* alerts = root["alerts"].as_table(); alerts != nullptr && !alerts->empty()) {
    errors.add_at(*alerts, "[alerts]" + why + " (a query-only collector raises and delivers no alerts); remove it");
  }
  if (const toml::table* wire = root["wire"].as_table(); wire != nullptr && !wire->empty()) {
    errors.add_at(*wire, "[wire]" + why + " (it bounds agents' batches); remove it");
  }
  if (const toml::table* ledger = root["ledger"].as_table()) {
    for (std::string_view key : {"retention_days", "retention_interval_s"}) {
      if (const toml::node* node = ledger->get(key)) {
        errors.add_at(*node, "[ledger] " + std::string(key) + why +
                                 " (retention is enforced by the collectors that ingest); remove it");
      }
    }
  }
}

}  // namespace

CollectorConfig parse_collector_config(const toml::table& root, ConfigErrors& errors) {
  CollectorConfig config;
  errors.reject_unknown_keys(root, {"stats_interval_s", "ledger", "ingest", "wire", "api", "policy", "alerts"}, "collector.toml");
  if (auto v = errors.get_int(root, "stats_interval_s", 0, 86400)) config.stats_interval_s = static_cast<std::uint32_t>(*v);

  config.ledger = parse_ledger_config(section_or_empty(root, "ledger", errors), errors);
  const toml::table& ingest = section_or_empty(root, "ingest", errors);
  config.ingest = parse_ingest_config(ingest, errors);
  config.wire = wire::parse_wire_limits(section_or_empty(root, "wire", errors), errors);
  const toml::table& api = section_or_empty(root, "api", errors);
  config.api = parse_api_config(api, errors);
  config.policy = parse_policy_watch_config(section_or_empty(root, "policy", errors), errors);
  config.alerts = parse_alerts_config(section_or_empty(root, "alerts", errors), errors);

  if (!config.ingest.enabled) reject_ingest_only_settings(root, errors);
  for (std::string_view key : {"tls_ca", "tls_cert", "tls_key"}) check_readable(ingest, key, "[ingest]", errors);
  for (std::string_view key : {"tls_cert", "tls_key"}) check_readable(api, key, "[api]", errors);
  if (const toml::table* policy = root["policy"].as_table()) check_readable(*policy, "path", "[policy]", errors);
  return config;
}

std::optional<CollectorConfig> load_collector_config(const std::string& path, ConfigErrors& errors) {
  std::optional<toml::table> root = parse_toml_file(path, errors);
  if (!root) return std::nullopt;
  CollectorConfig config = parse_collector_config(*root, errors);
  if (!errors.empty()) return std::nullopt;
  return config;
}

std::vector<std::string> settings_needing_restart(const CollectorConfig& running, const CollectorConfig& fresh) {
  std::vector<std::string> changed;
  auto compare = [&](const char* name, const auto& a, const auto& b) {
    if (!(a == b)) changed.emplace_back(name);
  };
  compare("stats_interval_s", running.stats_interval_s, fresh.stats_interval_s);
  compare("[ingest] enabled", running.ingest.enabled, fresh.ingest.enabled);
  const LedgerConfig& l = running.ledger;
  const LedgerConfig& m = fresh.ledger;
  compare("[ledger] store", l.store, m.store);
  compare("[ledger] sqlite_path", l.sqlite_path, m.sqlite_path);
  compare("[ledger] busy_timeout_ms", l.busy_timeout_ms, m.busy_timeout_ms);
  compare("[ledger] postgresql_dsn", l.postgresql_dsn, m.postgresql_dsn);
  compare("[ledger] postgresql_password_file", l.postgresql_password_file, m.postgresql_password_file);
  compare("[ledger] postgresql_connections", l.postgresql_connections, m.postgresql_connections);
  compare("[ledger] retention_days", l.retention_days, m.retention_days);
  compare("[ledger] retention_interval_s", l.retention_interval_s, m.retention_interval_s);
  const wire::WireLimits& w = running.wire;
  const wire::WireLimits& x = fresh.wire;
  compare("[wire]", std::tie(w.max_frame_bytes, w.max_batch_decompressed_bytes, w.max_records_per_batch,
                             w.max_accesses_per_batch, w.max_accesses_per_record, w.max_string_bytes,
                             w.max_strings_per_batch),
          std::tie(x.max_frame_bytes, x.max_batch_decompressed_bytes, x.max_records_per_batch,
                   x.max_accesses_per_batch, x.max_accesses_per_record, x.max_string_bytes, x.max_strings_per_batch));
  compare("[api] listen", running.api.listen, fresh.api.listen);
  compare("[api] tls_cert", running.api.tls_cert, fresh.api.tls_cert);
  compare("[api] tls_key", running.api.tls_key, fresh.api.tls_key);
  compare("[api] metrics_require_token", running.api.metrics_require_token, fresh.api.metrics_require_token);
  compare("[api] max_page", running.api.max_page, fresh.api.max_page);
  compare("[policy] path", running.policy.path, fresh.policy.path);
  compare("[policy] iso_codes_dir", running.policy.iso_codes_dir, fresh.policy.iso_codes_dir);
  compare("[policy] watch_interval_s", running.policy.watch_interval_s, fresh.policy.watch_interval_s);
  compare("[policy] scan_on_change", running.policy.scan_on_change, fresh.policy.scan_on_change);
  const AlertsConfig& a = running.alerts;
  const AlertsConfig& b = fresh.alerts;
  compare("[alerts] sqlite_path", a.sqlite_path, b.sqlite_path);
  compare("[alerts] dedup_window_s", a.dedup_window_s, b.dedup_window_s);
  compare("[alerts] retry_base_ms", a.retry_base_ms, b.retry_base_ms);
  compare("[alerts] retry_max_ms", a.retry_max_ms, b.retry_max_ms);
  compare("[alerts] sinks", a.sink_names(), b.sink_names());
  return changed;
}

}  // namespace ipattrib::collector
