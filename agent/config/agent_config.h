// AgentConfig: the whole agent configuration — one section per module, each
// parsed and validated by that module — plus loading from a TOML file with
// file:line errors. Command-line overrides are applied by main.
#pragma once

#include <string>

#include "agent/attribution/attribution_config.h"
#include "agent/capture/capture_config.h"
#include "agent/config/pipeline_config.h"
#include "agent/flow/flow_config.h"
#include "agent/geo/geo_config.h"
#include "agent/http/http_config.h"
#include "agent/ship/ship_config.h"
#include "common/privilege/privilege_drop.h"
#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

struct AgentIdentity {
  std::string id;       // default: hostname
  std::string gateway;  // default: hostname
};

struct AgentConfig {
  AgentIdentity identity;
  CaptureConfig capture;
  HttpConfig http;
  FlowConfig flow;
  AttributionConfig attribution;
  GeoConfig geo;
  PipelineConfig pipeline;  // worker threads between capture and output
  ShipConfig ship;  // shipping to collectors; off while ship.collectors is empty
  int stats_interval_s = 60;  // 0: stats only at exit and on SIGUSR1
  RunAsUser run_as;           // started as root: who to become once the capture is open
  // "host:port" / "[v6]:port" of GET /metrics and /healthz; "": no endpoint.
  std::string metrics_listen;
};

// "" when `listen` is a valid [agent] metrics_listen ("host:port",
// "[v6]:port" or "" for off), else what is wrong with it.
std::string check_metrics_listen(const std::string& listen);

// Defaults for running without a config file (tcpdump-style ad-hoc use).
AgentConfig default_agent_config();

// Reads `path` into `config` (starting from defaults). Returns false and
// fills `errors` ("file:line: message") when anything is wrong.
bool load_agent_config(const std::string& path, AgentConfig& config, ConfigErrors& errors);

}  // namespace ipattrib::agent
