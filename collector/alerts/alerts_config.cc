#include "collector/alerts/alerts_config.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "collector/alerts/sinks/syslog_address.h"

namespace ipattrib::collector {
namespace {

// Sink names become part of counter (and Prometheus metric) names: letters,
// digits and '_' only.
bool valid_sink_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::uint32_t line_of(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  return node != nullptr ? node->source().begin.line : table.source().begin.line;
}

// Calls parse(table, where) for every table of the [[alerts.KIND]] array.
template <typename Parse>
void for_each_sink_table(const toml::table& section, std::string_view kind, ConfigErrors& errors, Parse&& parse) {
  const toml::node* node = section.get(kind);
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    errors.add_at(
        *node, "[alerts] " + std::string(kind) + " must be an array of tables ([[alerts." + std::string(kind) + "]])");
    return;
  }
  for (const toml::node& element : *array) {
    if (const toml::table* table = element.as_table()) {
      parse(*table, "[[alerts." + std::string(kind) + "]]");
    } else {
      errors.add_at(element, "[[alerts." + std::string(kind) + "]] entries must be tables");
    }
  }
}

std::string required_string(const toml::table& table, std::string_view key, const std::string& where,
                            ConfigErrors& errors) {
  std::optional<std::string> v = errors.get_string(table, key);
  if (v && !v->empty()) return *v;
  if (!v && table.get(key) != nullptr) return "";  // wrong type, already reported
  errors.add(line_of(table, key), where + " " + std::string(key) + " is required");
  return "";
}

struct NamedSink {
  std::uint32_t line;
  std::string name;
  std::string where;
};
using SinkNames = std::vector<NamedSink>;

std::string sink_name(const toml::table& table, const std::string& where, SinkNames& names, ConfigErrors& errors) {
  std::string name = required_string(table, "name", where, errors);
  if (name.empty()) return name;
  if (!valid_sink_name(name)) {
    errors.add(line_of(table, "name"), where + " name '" + name + "': use 1..64 letters, digits or '_'");
  } else {
    names.push_back({line_of(table, "name"), name, where});
  }
  return name;
}

// The outbox is kept per name: two sinks of one name would share it.
// Reported at the later of the two in the file.
void reject_duplicate_names(SinkNames& names, ConfigErrors& errors) {
  std::sort(names.begin(), names.end(), [](const NamedSink& a, const NamedSink& b) { return a.line < b.line; });
  std::set<std::string> seen;
  for (const NamedSink& n : names) {
    if (!seen.insert(n.name).second) {
      errors.add(n.line, n.where + " name '" + n.name + "' is used by another sink");
    }
  }
}

WebhookSinkConfig parse_webhook(const toml::table& t, const std::string& where, SinkNames& names,
                                ConfigErrors& errors) {
  errors.reject_unknown_keys(t, {"name", "url", "secret_file", "ca_file", "timeout_ms"}, where);
  WebhookSinkConfig c;
  c.name = sink_name(t, where, names, errors);
  c.url = required_string(t, "url", where, errors);
  if (!c.url.empty() && c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0) {
    errors.add(line_of(t, "url"), where + " url must start with http:// or https://");
  }
  // Unsigned webhooks are not offered: a receiver must be able to tell a
  // forged alert from ours.
  c.secret_file = required_string(t, "secret_file", where, errors);
  if (!c.secret_file.empty() && ::access(c.secret_file.c_str(), R_OK) != 0) {
    errors.add(line_of(t, "secret_file"), where + " secret_file: cannot read '" + c.secret_file + "'");
  }
  if (auto v = errors.get_string(t, "ca_file")) c.ca_file = *v;
  if (!c.ca_file.empty() && ::access(c.ca_file.c_str(), R_OK) != 0) {
    errors.add(line_of(t, "ca_file"), where + " ca_file: cannot read '" + c.ca_file + "'");
  }
  if (auto v = errors.get_int(t, "timeout_ms", 100, 120000)) c.timeout_ms = static_cast<std::uint32_t>(*v);
  return c;
}

SyslogSinkConfig parse_syslog(const toml::table& t, const std::string& where, SinkNames& names, ConfigErrors& errors) {
  errors.reject_unknown_keys(t, {"name", "address", "app_name", "facility"}, where);
  SyslogSinkConfig c;
  c.name = sink_name(t, where, names, errors);
  if (auto v = errors.get_string(t, "address")) {
    SyslogAddress parsed;
    if (Status s = parse_syslog_address(*v, parsed); !s) {
      errors.add(line_of(t, "address"), where + " address: " + s.message());
    }
    c.address = *v;
  }
  if (auto v = errors.get_string(t, "app_name")) {
    const bool printable = std::all_of(v->begin(), v->end(), [](char ch) { return ch >= 33 && ch <= 126; });
    if (v->empty() || v->size() > 48 || !printable) {
      errors.add(line_of(t, "app_name"), where + " app_name: 1..48 printable ASCII characters, no spaces");
    }
    c.app_name = *v;
  }
  if (auto v = errors.get_string(t, "facility")) {
    int code = 0;
    if (!parse_syslog_facility(*v, code)) {
      errors.add(line_of(t, "facility"), where + " facility: one of auth, authpriv, daemon, user, local0..local7");
    }
    c.facility = *v;
  }
  return c;
}

FileSinkConfig parse_file(const toml::table& t, const std::string& where, SinkNames& names, ConfigErrors& errors) {
  errors.reject_unknown_keys(t, {"name", "path"}, where);
  FileSinkConfig c;
  c.name = sink_name(t, where, names, errors);
  c.path = required_string(t, "path", where, errors);
  return c;
}

}  // namespace

std::vector<std::string> AlertsConfig::sink_names() const {
  std::vector<std::string> names;
  for (const auto& s : webhooks) names.push_back(s.name);
  for (const auto& s : syslogs) names.push_back(s.name);
  for (const auto& s : files) names.push_back(s.name);
  return names;
}

AlertsConfig parse_alerts_config(const toml::table& section, ConfigErrors& errors) {
  AlertsConfig config;
  errors.reject_unknown_keys(
      section, {"sqlite_path", "dedup_window_s", "retry_base_ms", "retry_max_ms", "webhook", "syslog", "file"},
      "[alerts]");
  if (auto v = errors.get_string(section, "sqlite_path")) config.sqlite_path = *v;
  if (auto v = errors.get_int(section, "dedup_window_s", 0, 7 * 86400)) {
    config.dedup_window_s = static_cast<std::uint32_t>(*v);
  }
  if (auto v = errors.get_int(section, "retry_base_ms", 10, 600000))
    config.retry_base_ms = static_cast<std::uint32_t>(*v);
  if (auto v = errors.get_int(section, "retry_max_ms", 10, 86400000))
    config.retry_max_ms = static_cast<std::uint32_t>(*v);
  if (config.retry_max_ms < config.retry_base_ms) {
    errors.add(line_of(section, "retry_max_ms"), "[alerts] retry_max_ms must be at least retry_base_ms");
  }

  SinkNames names;
  for_each_sink_table(section, "webhook", errors, [&](const toml::table& t, const std::string& where) {
    config.webhooks.push_back(parse_webhook(t, where, names, errors));
  });
  for_each_sink_table(section, "syslog", errors, [&](const toml::table& t, const std::string& where) {
    config.syslogs.push_back(parse_syslog(t, where, names, errors));
  });
  for_each_sink_table(section, "file", errors, [&](const toml::table& t, const std::string& where) {
    config.files.push_back(parse_file(t, where, names, errors));
  });
  reject_duplicate_names(names, errors);
  return config;
}

}  // namespace ipattrib::collector
