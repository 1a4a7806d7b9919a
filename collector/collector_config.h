// CollectorConfig: the whole collector.toml — the [ledger], [ingest], [wire],
// [api], [policy] and [alerts] sections, each parsed by the module that owns it, plus the
// process's own stats interval. Unknown sections and keys are errors, so a
// typo never silently falls back to a default.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/alert_engine/policy_watch_config.h"
#include "collector/alerts/alerts_config.h"
#include "collector/api/api_config.h"
#include "collector/ingest/ingest_config.h"
#include "collector/ledger/ledger_config.h"
#include "ipattrib/config_errors.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::collector {

struct CollectorConfig {
  std::uint32_t stats_interval_s = 60;  // stats_interval_s (top level), 0..86400; 0 = only on SIGUSR1 and exit
  LedgerConfig ledger;
  IngestConfig ingest;
  wire::WireLimits wire;
  ApiConfig api;
  PolicyWatchConfig policy;
  AlertsConfig alerts;
};

// Parses a whole collector.toml document. A missing section is parsed as an
// empty one, so its required keys are reported rather than skipped.
CollectorConfig parse_collector_config(const toml::table& root, ConfigErrors& errors);

// Reads and parses the file; nullopt (with file:line errors) when it is
// unreadable, not TOML, or invalid.
std::optional<CollectorConfig> load_collector_config(const std::string& path, ConfigErrors& errors);

// The settings (as "[section] key") that differ between `running` and
// `fresh` and that a SIGHUP does not apply — everything except the agent
// TLS files, allow-list and idle timeout, the API tokens and the policy file's
// content (and the ingest listener, which the ingest server reports itself).
std::vector<std::string> settings_needing_restart(const CollectorConfig& running, const CollectorConfig& fresh);

}  // namespace ipattrib::collector
