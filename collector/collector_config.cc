#include "collector/collector_config.h"

#include <unistd.h>

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

}  // namespace ipattrib::collector
