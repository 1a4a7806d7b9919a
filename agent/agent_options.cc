#include "agent/agent_options.h"

#include <fmt/format.h>

#include <cstdio>

namespace ipattrib::agent {

void add_agent_options(CLI::App& app, AgentOptions& o) {
  app.add_option("-c,--config", o.config_path, "agent config file (TOML)")->check(CLI::ExistingFile);
  app.add_flag("--check-config", o.check_config, "validate the configuration and exit (0 ok, 1 errors)");
  app.add_option("-r,--read", o.read_file, "read packets from a pcap/pcapng file instead of an interface");
  app.add_option("-i,--interface", o.interface, "capture live on this interface");
  app.add_option("-f,--filter", o.filter, "BPF filter, as for tcpdump");
  app.add_option("--ports", o.ports, "HTTP server ports: 'any' or a comma list such as 80,8080");
  app.add_option("--trusted-proxy", o.trusted_proxies, "CIDR of a proxy whose forwarding headers are trusted (repeatable)");
  app.add_option("--account-header", o.account_header, "header carrying the account id (e.g. X-Account-Id)");
  app.add_option("--account-path", o.account_path, "path template with {account}, e.g. /v1/accounts/{account}/...");
  app.add_option("--geo-db", o.geo_dbs, "MaxMind DB file to enrich with (repeatable; kind read from its metadata)");
  app.add_option("--events", o.events_path, "write one JSON object per request to FILE, or - for stdout");
  app.add_option("--user", o.user, "started as root: switch to this user once the capture is open (\"\": stay root)");
  app.add_option("--group", o.group, "with --user: switch to this group (default: the user's primary group)");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "serve GET /metrics and /healthz on HOST:PORT or [V6]:PORT (\"\": off)");
}

namespace {

void apply_ports(const std::string& text, HttpConfig& http, ConfigErrors& errors) {
  if (text == "any") {
    http.any_port = true;
    http.ports.clear();
    return;
  }
  std::vector<std::uint16_t> ports;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const long value = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 1 || value > 65535) {
      errors.add(0, fmt::format("--ports: '{}' is not 'any' or a list of ports 1-65535", text));
      return;
    }
    ports.push_back(static_cast<std::uint16_t>(value));
    start = comma + 1;
  }
  http.any_port = false;
  http.ports = std::move(ports);
}

void apply_overrides(const AgentOptions& o, AgentConfig& config, ConfigErrors& errors) {
  if (!o.read_file.empty() && !o.interface.empty()) errors.add(0, "--read and --interface exclude each other");
  if (!o.read_file.empty()) {
    config.capture.read_file = o.read_file;
    config.capture.interface.clear();
  }
  if (!o.interface.empty()) {
    config.capture.interface = o.interface;
    config.capture.read_file.clear();
  }
  if (!o.filter.empty()) config.capture.filter = o.filter;
  if (!o.ports.empty()) apply_ports(o.ports, config.http, errors);
  for (const std::string& text : o.trusted_proxies) {
    const auto cidr = Cidr::parse(text);
    if (!cidr) {
      errors.add(0, fmt::format("--trusted-proxy: '{}' is not an address or CIDR", text));
      continue;
    }
    config.attribution.trusted_proxies.add(*cidr);
  }
  if (!o.account_header.empty()) add_header_account_rule(config.attribution, o.account_header);
  if (!o.account_path.empty()) {
    if (Status s = add_path_account_rule(config.attribution, o.account_path); !s) {
      errors.add(0, fmt::format("--account-path: {}", s.message()));
    }
  }
  for (const std::string& path : o.geo_dbs) config.geo.add_database(path);
  if (o.user) config.run_as.user = *o.user;
  if (!o.group.empty()) config.run_as.group = o.group;
  if (o.metrics_listen) {
    if (std::string message = check_metrics_listen(*o.metrics_listen); !message.empty()) {
      errors.add(0, "--metrics-listen: " + message);
    } else {
      config.metrics_listen = *o.metrics_listen;
    }
  }
  // A config checked for a daemon may leave the capture to the command line.
  if (!o.check_config && config.capture.backend != CaptureBackend::kDpdk && config.capture.read_file.empty() &&
      config.capture.interface.empty()) {
    errors.add(0, "nothing to capture: give --read FILE, --interface NAME, or [capture] in the config");
  }
}

}  // namespace

bool build_config(const AgentOptions& options, AgentConfig& config, std::string& errors) {
  ConfigErrors file_errors(options.config_path);
  if (!options.config_path.empty()) load_agent_config(options.config_path, config, file_errors);
  ConfigErrors flag_errors("command line");
  if (file_errors.empty()) apply_overrides(options, config, flag_errors);
  errors = file_errors.to_string() + flag_errors.to_string();
  return file_errors.empty() && flag_errors.empty();
}

bool build_config(const AgentOptions& options, AgentConfig& config) {
  std::string errors;
  if (build_config(options, config, errors)) return true;
  std::fputs(errors.c_str(), stderr);
  return false;
}

}  // namespace ipattrib::agent
