// PolicyWatchConfig: the collector's [policy] section — which special-measures
// policy file is in force, how often the collector looks for changes to it,
// and whether a change starts a retroactive scan.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "ipattrib/config_errors.h"

namespace ipattrib::collector {

struct PolicyWatchConfig {
  std::string path;                   // path: the policy file; "" = no special measures, no alerts
  std::string iso_codes_dir;          // iso_codes_dir: "" = Debian's iso-codes data
  std::uint32_t watch_interval_s = 5;  // watch_interval_s, 0..3600: 0 = reload on SIGHUP only
  bool scan_on_change = true;         // scan_on_change: new or changed measures start a retroactive scan
};

// Parses the [policy] table; records file:line errors and rejects unknown keys.
PolicyWatchConfig parse_policy_watch_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::collector
