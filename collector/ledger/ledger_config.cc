#include "collector/ledger/ledger_config.h"

namespace ipattrib::collector {

LedgerConfig parse_ledger_config(const toml::table& section, ConfigErrors& errors) {
  LedgerConfig config;
  errors.reject_unknown_keys(
      section, {"store", "sqlite_path", "busy_timeout_ms", "retention_days", "retention_interval_s"}, "[ledger]");
  if (auto store = errors.get_string(section, "store")) {
    if (*store != "sqlite") {
      errors.add_at(*section.get("store"), "[ledger] store must be \"sqlite\" (got \"" + *store + "\")");
    }
  }
  if (auto path = errors.get_string(section, "sqlite_path")) {
    if (path->empty()) {
      errors.add_at(*section.get("sqlite_path"), "[ledger] sqlite_path must not be empty");
    } else {
      config.sqlite_path = *path;
    }
  }
  if (auto n = errors.get_int(section, "busy_timeout_ms", 0, 600000))
    config.busy_timeout_ms = static_cast<std::uint32_t>(*n);
  if (auto n = errors.get_int(section, "retention_days", 0, 36500))
    config.retention_days = static_cast<std::uint32_t>(*n);
  if (auto n = errors.get_int(section, "retention_interval_s", 60, 604800)) {
    config.retention_interval_s = static_cast<std::uint32_t>(*n);
  }
  return config;
}

}  // namespace ipattrib::collector
