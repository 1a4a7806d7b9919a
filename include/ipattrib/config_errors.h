// Configuration errors with file:line, and typed readers over toml++ nodes
// that record such an error instead of throwing. Every config section parser
// (agent, collector, policy) reads its table through these.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib {

struct ConfigError {
  std::string file;
  std::uint32_t line = 0;  // 0 when unknown (command line)
  std::string message;
  std::string to_string() const;  // "file:line: message"
};

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file = "<command line>") : file_(std::move(file)) {}

  void add(std::uint32_t line, std::string message);
  void add_at(const toml::node& node, std::string message);
  bool empty() const { return errors_.empty(); }
  const std::vector<ConfigError>& errors() const { return errors_; }
  const std::string& file() const { return file_; }
  // All errors, one "file:line: message" per line.
  std::string to_string() const;

  // Typed readers: return nullopt when the key is absent; record an error and
  // return nullopt when the key is present with the wrong type or range.
  std::optional<std::string> get_string(const toml::table& table, std::string_view key);
  std::optional<bool> get_bool(const toml::table& table, std::string_view key);
  std::optional<std::int64_t> get_int(const toml::table& table, std::string_view key, std::int64_t min,
                                      std::int64_t max);
  std::optional<std::vector<std::string>> get_string_array(const toml::table& table, std::string_view key);
  // A sub-table; nullptr when absent; an error if present but not a table.
  const toml::table* get_table(const toml::table& table, std::string_view key);
  // Records an error for every key of `table` not in `known` (typos must not
  // pass silently).
  void reject_unknown_keys(const toml::table& table, std::initializer_list<std::string_view> known,
                           std::string_view where);

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Parses a TOML file; on a syntax error records it (with line) and returns
// nullopt.
std::optional<toml::table> parse_toml_file(const std::string& path, ConfigErrors& errors);

}  // namespace ipattrib
