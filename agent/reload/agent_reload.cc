#include "agent/reload/agent_reload.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>

namespace ipattrib::agent {
namespace {

// [ship] keys the shipper takes over live (Shipper::reload_transport).
const std::set<std::string, std::less<>> kLiveShipKeys = {"collectors", "tls_ca", "tls_cert", "tls_key"};
const std::set<std::string, std::less<>> kLiveAgentKeys = {"stats_interval_s"};

toml::table read_table(const std::string& path) {
  if (path.empty()) return {};
  ConfigErrors errors(path);
  return parse_toml_file(path, errors).value_or(toml::table{});
}

const toml::table* section(const toml::table& root, std::string_view name) {
  const toml::node* node = root.get(name);
  return node == nullptr ? nullptr : node->as_table();
}

// toml++ compares values of one type only; their TOML text compares any two.
std::string toml_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& n) { out << n; });
  return out.str();
}

bool same_node(const toml::node* a, const toml::node* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->type() == b->type() && toml_text(*a) == toml_text(*b);
}

// Keys of one section whose values differ, except those a reload applies.
void restart_keys(std::string_view name, const toml::table* running, const toml::table* next,
                  const std::set<std::string, std::less<>>& live, std::vector<std::string>& out) {
  const toml::table empty;
  const toml::table& a = running != nullptr ? *running : empty;
  const toml::table& b = next != nullptr ? *next : empty;
  std::set<std::string> keys;
  for (const auto& [key, value] : a) keys.emplace(key.str());
  for (const auto& [key, value] : b) keys.emplace(key.str());
  for (const std::string& key : keys) {
    if (live.count(key) != 0 || same_node(a.get(key), b.get(key))) continue;
    out.push_back(fmt::format("[{}] {}", name, key));
  }
}

}  // namespace

std::vector<std::string> settings_needing_restart(const toml::table& running, const toml::table& next, bool shipping) {
  std::set<std::string> sections;
  for (const auto& [key, value] : running) sections.emplace(key.str());
  for (const auto& [key, value] : next) sections.emplace(key.str());
  std::vector<std::string> out;
  for (const std::string& name : sections) {
    const toml::node* a = running.get(name);
    const toml::node* b = next.get(name);
    if (same_node(a, b)) continue;
    if (name == "ship" && shipping) {
      restart_keys(name, section(running, name), section(next, name), kLiveShipKeys, out);
    } else if (name == "agent") {
      restart_keys(name, section(running, name), section(next, name), kLiveAgentKeys, out);
    } else {
      out.push_back(fmt::format("[{}]", name));
    }
  }
  return out;
}

AgentReload::AgentReload(const AgentOptions& options)
    : options_(options), started_with_(read_table(options.config_path)) {}

Status AgentReload::reload(GeoResolver& geo, Shipper* shipper, int& stats_interval_s) {
  ++reloads_;
  AgentConfig next = default_agent_config();
  std::string errors;
  if (!build_config(options_, next, errors)) {
    ++failures_;
    return Status::error(fmt::format("the configuration has errors; keeping the running one:\n{}", errors));
  }
  const toml::table next_table = read_table(options_.config_path);
  // TLS first: it is the only step that can still fail, and nothing is applied before it.
  if (shipper != nullptr && !next.ship.collectors.empty()) {
    const tls::TlsFiles files{next.ship.tls_ca, next.ship.tls_cert, next.ship.tls_key};
    if (Status s = shipper->reload_transport(collector_endpoints(next.ship), files); !s) {
      ++failures_;
      return Status::error(fmt::format("[ship]: {}; keeping the running configuration", s.message()));
    }
  }
  geo.reload();
  stats_interval_s = next.stats_interval_s;
  for (const std::string& setting : settings_needing_restart(started_with_, next_table, shipper != nullptr)) {
    spdlog::warn("reload: {} changed; it takes effect at the next restart", setting);
  }
  return Status::ok();
}

void AgentReload::report(StatsSink& sink) const {
  sink.counter("agent.reloads", reloads_);
  sink.counter("agent.reload_failures", failures_);
}

}  // namespace ipattrib::agent
