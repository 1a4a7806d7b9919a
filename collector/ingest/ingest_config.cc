#include "collector/ingest/ingest_config.h"

#include <algorithm>

#include "common/tls/tcp_socket.h"

namespace ipattrib::collector {
namespace {

// A query-only collector has no listener, so any listener setting in its
// [ingest] section is a mistake (or a config copied from an ingesting
// collector): saying so beats silently ignoring it.
void reject_listener_keys(const toml::table& section, ConfigErrors& errors) {
  for (std::string_view key : {"listen", "tls_ca", "tls_cert", "tls_key", "allowed_agents", "max_connections",
                               "idle_timeout_s", "plaintext_for_tests"}) {
    const toml::node* node = section.get(key);
    if (node == nullptr) continue;
    errors.add_at(*node, "[ingest] " + std::string(key) +
                            " has no effect with enabled = false (a query-only collector listens for no agents); "
                            "remove it");
  }
}

}  // namespace

IngestConfig parse_ingest_config(const toml::table& section, ConfigErrors& errors) {
  IngestConfig config;
  errors.reject_unknown_keys(section,
                             {"enabled", "listen", "tls_ca", "tls_cert", "tls_key", "allowed_agents", "max_connections",
                              "idle_timeout_s", "plaintext_for_tests"},
                             "[ingest]");
  if (auto v = errors.get_bool(section, "enabled")) config.enabled = *v;
  if (!config.enabled) {
    reject_listener_keys(section, errors);
    return config;
  }
  const std::uint32_t section_line = section.source().begin.line;
  auto line_of = [&](std::string_view key) {
    const toml::node* node = section.get(key);
    return node != nullptr ? node->source().begin.line : section_line;
  };
  if (auto v = errors.get_string(section, "listen")) {
    tls::HostPort parsed;
    if (Status s = tls::parse_host_port(*v, parsed); !s) {
      errors.add(line_of("listen"), "[ingest] listen: " + s.message());
    } else {
      config.listen = *v;
    }
  }
  if (auto v = errors.get_string(section, "tls_ca")) config.tls_ca = *v;
  if (auto v = errors.get_string(section, "tls_cert")) config.tls_cert = *v;
  if (auto v = errors.get_string(section, "tls_key")) config.tls_key = *v;
  if (auto v = errors.get_int(section, "max_connections", 1, 65536)) config.max_connections = static_cast<std::uint32_t>(*v);
  if (auto v = errors.get_int(section, "idle_timeout_s", 5, 86400)) config.idle_timeout_s = static_cast<std::uint32_t>(*v);
  if (auto v = errors.get_bool(section, "plaintext_for_tests")) config.plaintext_for_tests = *v;

  if (auto v = errors.get_string_array(section, "allowed_agents")) {
    config.allowed_agents = *v;
    if (v->empty()) errors.add(line_of("allowed_agents"), "[ingest] allowed_agents is empty: no agent could ship");
    if (std::any_of(v->begin(), v->end(), [](const std::string& id) { return id.empty(); })) {
      errors.add(line_of("allowed_agents"), "[ingest] allowed_agents holds an empty identity");
    }
  } else if (section.get("allowed_agents") == nullptr) {
    errors.add(section_line,
               "[ingest] allowed_agents is required (agent certificate identities, or [\"*\"] for any agent with a "
               "certificate from tls_ca)");
  }
  if (!config.plaintext_for_tests) {
    for (auto [key, value] : {std::pair{"tls_ca", &config.tls_ca}, std::pair{"tls_cert", &config.tls_cert},
                              std::pair{"tls_key", &config.tls_key}}) {
      if (value->empty()) {
        errors.add(section_line, std::string("[ingest] ") + key + " is required (agents authenticate by certificate)");
      }
    }
  }
  return config;
}

bool agent_allowed(const std::vector<std::string>& allowed_agents, const std::string& identity) {
  if (identity.empty()) return false;
  return std::any_of(allowed_agents.begin(), allowed_agents.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == identity; });
}

}  // namespace ipattrib::collector
