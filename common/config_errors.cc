#include "ipattrib/config_errors.h"

#include <fmt/format.h>

#include <algorithm>

namespace ipattrib {

std::string ConfigError::to_string() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}: {}", file, line, message);
}

void ConfigErrors::add(std::uint32_t line, std::string message) {
  errors_.push_back(ConfigError{file_, line, std::move(message)});
}

void ConfigErrors::add_at(const toml::node& node, std::string message) {
  add(node.source().begin.line, std::move(message));
}

std::string ConfigErrors::to_string() const {
  std::string out;
  for (const auto& e : errors_) {
    out += e.to_string();
    out += '\n';
  }
  return out;
}

std::optional<std::string> ConfigErrors::get_string(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* s = node->as_string()) return s->get();
  add_at(*node, fmt::format("'{}' must be a string", key));
  return std::nullopt;
}

std::optional<bool> ConfigErrors::get_bool(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  if (const auto* b = node->as_boolean()) return b->get();
  add_at(*node, fmt::format("'{}' must be true or false", key));
  return std::nullopt;
}

std::optional<std::int64_t> ConfigErrors::get_int(const toml::table& table, std::string_view key, std::int64_t min,
                                                  std::int64_t max) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto* i = node->as_integer();
  if (i == nullptr) {
    add_at(*node, fmt::format("'{}' must be an integer", key));
    return std::nullopt;
  }
  if (i->get() < min || i->get() > max) {
    add_at(*node, fmt::format("'{}' must be between {} and {}, got {}", key, min, max, i->get()));
    return std::nullopt;
  }
  return i->get();
}

std::optional<std::vector<std::string>> ConfigErrors::get_string_array(const toml::table& table,
                                                                       std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto* array = node->as_array();
  if (array == nullptr) {
    add_at(*node, fmt::format("'{}' must be an array of strings", key));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const toml::node& element : *array) {
    const auto* s = element.as_string();
    if (s == nullptr) {
      add_at(element, fmt::format("'{}' must contain only strings", key));
      return std::nullopt;
    }
    out.push_back(s->get());
  }
  return out;
}

const toml::table* ConfigErrors::get_table(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return nullptr;
  if (const auto* t = node->as_table()) return t;
  add_at(*node, fmt::format("'{}' must be a table", key));
  return nullptr;
}

void ConfigErrors::reject_unknown_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                                       std::string_view where) {
  for (const auto& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      add(key.source().begin.line != 0 ? key.source().begin.line : node.source().begin.line,
          fmt::format("unknown key '{}' in {}", key.str(), where));
    }
  }
}

std::optional<toml::table> parse_toml_file(const std::string& path, ConfigErrors& errors) {
  // Debian's toml++ is built with exceptions on: a syntax error is thrown.
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    errors.add(e.source().begin.line, std::string(e.description()));
  }
  return std::nullopt;
}

}  // namespace ipattrib
