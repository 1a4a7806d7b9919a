// AgentReload: what SIGHUP does to a running agent. The configuration file is
// read again with the same command-line overrides; a file with any error, or
// TLS files that do not load, change nothing (the errors are logged with
// file:line and the running configuration stays). Applied at once, without
// closing the capture: the geo databases (re-opened), the collector list and
// the TLS certificate, key and CA (re-read even when their paths did not
// change, so rotated files take effect; the connection in use is kept) and
// [agent] stats_interval_s. Every other changed setting is logged as taking
// effect at the next restart.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "agent/agent_options.h"
#include "agent/config/agent_config.h"
#include "agent/geo/geo_resolver.h"
#include "agent/ship/shipper.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// Settings that differ between two versions of the agent's config file and
// that a reload cannot apply: "[capture]", "[ship] flush_window_ms", ...
// `shipping` says whether the running agent ships (without a shipper a
// changed collector list needs a restart too).
std::vector<std::string> settings_needing_restart(const toml::table& running, const toml::table& next, bool shipping);

class AgentReload {
 public:
  // Remembers the config file as the agent starts with it (unreadable: an
  // empty table, so every section of a later file counts as changed).
  explicit AgentReload(const AgentOptions& options);

  // Reads the file again and applies what can change live. `shipper` is null
  // when the agent does not ship. On success `stats_interval_s` is the new
  // value; on failure nothing changed and the Status says why.
  Status reload(GeoResolver& geo, Shipper* shipper, int& stats_interval_s);

  // agent.reloads, agent.reload_failures.
  void report(StatsSink& sink) const;

 private:
  const AgentOptions& options_;
  toml::table started_with_;
  std::uint64_t reloads_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace ipattrib::agent
