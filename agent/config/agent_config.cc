#include "agent/config/agent_config.h"

#include <unistd.h>

#include "ipattrib/listen_address.h"

namespace ipattrib::agent {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "unknown-host";
  return buf;
}

void parse_agent_section(const toml::table& section, AgentConfig& config, ConfigErrors& errors) {
  errors.reject_unknown_keys(
      section, {"id", "gateway", "stats_interval_s", "user", "group", "keep_net_admin", "metrics_listen"}, "[agent]");
  if (auto v = errors.get_string(section, "id")) config.identity.id = *v;
  if (auto v = errors.get_string(section, "gateway")) config.identity.gateway = *v;
  if (auto v = errors.get_int(section, "stats_interval_s", 0, 86400)) config.stats_interval_s = static_cast<int>(*v);
  if (auto v = errors.get_string(section, "user")) config.run_as.user = *v;
  if (auto v = errors.get_string(section, "group")) config.run_as.group = *v;
  if (auto v = errors.get_bool(section, "keep_net_admin")) config.run_as.keep_net_admin = *v;
  if (auto v = errors.get_string(section, "metrics_listen")) {
    if (std::string message = check_metrics_listen(*v); !message.empty()) {
      errors.add_at(*section.get("metrics_listen"), "[agent] " + message);
    } else {
      config.metrics_listen = *v;
    }
  }
}

}  // namespace

std::string check_metrics_listen(const std::string& listen) {
  std::string host;
  int port = 0;
  if (listen.empty() || split_listen_address(listen, host, port)) return "";
  return "metrics_listen must be \"host:port\", \"[v6]:port\" or \"\" (off), got \"" + listen + "\"";
}

AgentConfig default_agent_config() {
  AgentConfig config;
  config.identity.id = host_name();
  config.identity.gateway = config.identity.id;
  return config;
}

bool load_agent_config(const std::string& path, AgentConfig& config, ConfigErrors& errors) {
  const std::optional<toml::table> root = parse_toml_file(path, errors);
  if (!root) return false;
  errors.reject_unknown_keys(*root, {"agent", "capture", "http", "flow", "attribution", "geo", "ship", "pipeline"}, "the top level");
  static const toml::table kEmpty;
  auto section = [&](std::string_view name) -> const toml::table& {
    const toml::table* t = errors.get_table(*root, name);
    return t != nullptr ? *t : kEmpty;
  };
  parse_agent_section(section("agent"), config, errors);
  config.capture = parse_capture_config(section("capture"), errors);
  config.http = parse_http_config(section("http"), errors);
  config.flow = parse_flow_config(section("flow"), errors);
  config.attribution = parse_attribution_config(section("attribution"), errors);
  config.geo = parse_geo_config(section("geo"), errors);
  config.ship = parse_ship_config(section("ship"), errors);
  config.pipeline = parse_pipeline_config(section("pipeline"), errors);
  return errors.empty();
}

}  // namespace ipattrib::agent
