// AgentOptions: the agent's command line, and how it overrides the config
// file (or the built-in defaults when there is none), tcpdump style.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/agent_config.h"

namespace ipattrib::agent {

struct AgentOptions {
  std::string config_path;
  bool check_config = false;
  std::string read_file;
  std::string interface;
  std::string filter;
  std::string ports;  // "any" or "80,8080"
  std::vector<std::string> trusted_proxies;
  std::string account_header;
  std::string account_path;
  std::vector<std::string> geo_dbs;
  std::string events_path;
  std::optional<std::string> user;  // set (even to "") overrides [agent] user
  std::string group;
  std::optional<std::string> metrics_listen;  // set (even to "") overrides [agent] metrics_listen
};

void add_agent_options(CLI::App& app, AgentOptions& options);

// Loads the config file (if any) and applies the command-line overrides.
// Prints every error ("file:line: message") to stderr and returns false on
// any. With no config file, HTTP is detected on any port.
bool build_config(const AgentOptions& options, AgentConfig& config);
// The same, handing the errors back (one per line) instead of printing them:
// a SIGHUP reload logs them and keeps the running configuration.
bool build_config(const AgentOptions& options, AgentConfig& config, std::string& errors);

}  // namespace ipattrib::agent
