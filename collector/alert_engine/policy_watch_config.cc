#include "collector/alert_engine/policy_watch_config.h"

namespace ipattrib::collector {

PolicyWatchConfig parse_policy_watch_config(const toml::table& section, ConfigErrors& errors) {
  PolicyWatchConfig config;
  errors.reject_unknown_keys(section, {"path", "iso_codes_dir", "watch_interval_s", "scan_on_change"}, "[policy]");
  if (auto v = errors.get_string(section, "path")) config.path = *v;
  if (auto v = errors.get_string(section, "iso_codes_dir")) config.iso_codes_dir = *v;
  if (auto v = errors.get_int(section, "watch_interval_s", 0, 3600)) config.watch_interval_s = static_cast<std::uint32_t>(*v);
  if (auto v = errors.get_bool(section, "scan_on_change")) config.scan_on_change = *v;
  return config;
}

}  // namespace ipattrib::collector
