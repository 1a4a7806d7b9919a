#include "agent/http/http_config.h"

#include <fmt/format.h>

#include <optional>
#include <string_view>

namespace ipattrib::agent {
namespace {

std::optional<std::vector<std::uint16_t>> read_port_array(const toml::node& node, std::string_view key,
                                                          ConfigErrors& errors) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    errors.add_at(node, fmt::format("'{}' must be an array of port numbers", key));
    return std::nullopt;
  }
  std::vector<std::uint16_t> ports;
  for (const toml::node& element : *array) {
    const auto* port = element.as_integer();
    if (port == nullptr || port->get() < 1 || port->get() > 65535) {
      errors.add_at(element, fmt::format("'{}' entries must be integers between 1 and 65535", key));
      return std::nullopt;
    }
    ports.push_back(static_cast<std::uint16_t>(port->get()));
  }
  return ports;
}

void read_ports(const toml::table& section, HttpConfig& config, ConfigErrors& errors) {
  const toml::node* node = section.get("ports");
  if (node == nullptr) return;
  if (const auto* text = node->as_string()) {
    if (text->get() == "any") {
      config.any_port = true;
      config.ports.clear();
    } else {
      errors.add_at(*node, "'ports' must be \"any\" or an array of port numbers");
    }
    return;
  }
  auto ports = read_port_array(*node, "ports", errors);
  if (!ports) return;
  if (ports->empty()) {
    errors.add_at(*node, "'ports' is empty: list at least one port or use \"any\"");
    return;
  }
  config.any_port = false;
  config.ports = std::move(*ports);
}

}  // namespace

HttpConfig parse_http_config(const toml::table& section, ConfigErrors& errors) {
  HttpConfig config;
  errors.reject_unknown_keys(section, {"ports", "proxy_protocol_ports", "max_head_bytes", "max_headers"}, "[http]");
  read_ports(section, config, errors);
  if (const toml::node* node = section.get("proxy_protocol_ports")) {
    if (auto ports = read_port_array(*node, "proxy_protocol_ports", errors)) config.proxy_protocol_ports = *ports;
  }
  if (auto v = errors.get_int(section, "max_head_bytes", 256, 1 << 20)) config.max_head_bytes = static_cast<std::size_t>(*v);
  if (auto v = errors.get_int(section, "max_headers", 1, 10000)) config.max_headers = static_cast<std::size_t>(*v);
  return config;
}

}  // namespace ipattrib::agent
