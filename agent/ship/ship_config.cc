#include "agent/ship/ship_config.h"

#include <fmt/format.h>

#include <charconv>

namespace ipattrib::agent {
namespace {

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

void read_collectors(const toml::table& section, ConfigErrors& errors, ShipConfig& config) {
  auto list = errors.get_string_array(section, "collectors");
  if (!list) return;
  for (const std::string& text : *list) {
    CollectorAddress address;
    if (!parse_collector_address(text, address)) {
      errors.add_at(*section.get("collectors"),
                    fmt::format("collector '{}' is not host:port (IPv6 as [address]:port, port 1-65535)", text));
      continue;
    }
    config.collectors.push_back(std::move(address));
  }
}

void read_path(const toml::table& section, std::string_view key, ConfigErrors& errors, std::string& out) {
  auto value = errors.get_string(section, key);
  if (!value) return;
  if (value->empty()) {
    errors.add_at(*section.get(key), fmt::format("'{}' must not be empty", key));
    return;
  }
  out = *value;
}

}  // namespace

bool parse_collector_address(std::string_view text, CollectorAddress& out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // bare IPv6 is ambiguous
  }
  if (host.empty() || host.find_first_of(" \t/") != std::string_view::npos) return false;
  std::uint16_t port_number = 0;
  if (!parse_port(port, port_number)) return false;
  out.host = std::string(host);
  out.port = port_number;
  return true;
}

ShipConfig parse_ship_config(const toml::table& section, ConfigErrors& errors) {
  ShipConfig config;
  errors.reject_unknown_keys(section,
                             {"flush_window_ms", "max_records_per_window", "ship_unattributed", "spool_dir",
                              "max_spool_mb", "collectors", "tls_ca", "tls_cert", "tls_key", "plaintext_for_tests"},
                             "[ship]");
  if (auto n = errors.get_int(section, "flush_window_ms", 10, 3'600'000)) {
    config.flush_window_ms = static_cast<std::uint32_t>(*n);
  }
  if (auto n = errors.get_int(section, "max_records_per_window", 1, 100'000)) {
    config.max_records_per_window = static_cast<std::uint32_t>(*n);
  }
  if (auto b = errors.get_bool(section, "ship_unattributed")) config.ship_unattributed = *b;
  read_path(section, "spool_dir", errors, config.spool_dir);
  if (auto n = errors.get_int(section, "max_spool_mb", 1, 1 << 20)) config.max_spool_mb = static_cast<std::uint32_t>(*n);
  read_collectors(section, errors, config);
  read_path(section, "tls_ca", errors, config.tls_ca);
  read_path(section, "tls_cert", errors, config.tls_cert);
  read_path(section, "tls_key", errors, config.tls_key);
  if (auto b = errors.get_bool(section, "plaintext_for_tests")) config.plaintext_for_tests = *b;

  const bool tls_complete = !config.tls_ca.empty() && !config.tls_cert.empty() && !config.tls_key.empty();
  if (!config.collectors.empty() && !config.plaintext_for_tests && !tls_complete) {
    errors.add_at(*section.get("collectors"),
                  "shipping to collectors needs tls_ca, tls_cert and tls_key (mutual TLS); "
                  "plaintext_for_tests = true is for tests only");
  }
  return config;
}

std::vector<std::string> collector_endpoints(const ShipConfig& config) {
  std::vector<std::string> out;
  for (const CollectorAddress& c : config.collectors) {
    const bool v6 = c.host.find(':') != std::string::npos;
    out.push_back(v6 ? fmt::format("[{}]:{}", c.host, c.port) : fmt::format("{}:{}", c.host, c.port));
  }
  return out;
}

}  // namespace ipattrib::agent
