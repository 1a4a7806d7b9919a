#include "agent/geo/geo_config.h"

#include <fmt/format.h>

namespace ipattrib::agent {
namespace {

std::optional<GeoDatabaseKind> parse_kind(std::string_view text) {
  if (text == "auto") return GeoDatabaseKind::kAuto;
  if (text == "country" || text == "city") return GeoDatabaseKind::kCountry;
  if (text == "asn") return GeoDatabaseKind::kAsn;
  if (text == "anonymous_ip") return GeoDatabaseKind::kAnonymousIp;
  return std::nullopt;
}

std::optional<std::vector<std::string>> read_path(const toml::table& table, std::string_view key,
                                                  ConfigErrors& errors) {
  auto path = errors.get_string_array(table, key);
  if (path && path->empty()) {
    errors.add_at(*table.get(key), fmt::format("'{}' must name at least one key", key));
    return std::nullopt;
  }
  return path;
}

void parse_database(const toml::table& table, ConfigErrors& errors, GeoConfig& config) {
  errors.reject_unknown_keys(table,
                             {"path", "optional", "kind", "country_path", "registered_country_path", "subdivision_path",
                              "asn_path", "as_org_path"},
                             "[[geo.database]]");
  GeoDatabaseConfig db;
  if (auto path = errors.get_string(table, "path")) {
    db.path = *path;
  }
  if (db.path.empty()) {
    errors.add(table.source().begin.line, "[[geo.database]] needs a non-empty 'path'");
    return;
  }
  if (auto optional = errors.get_bool(table, "optional")) db.optional = *optional;
  if (auto kind_text = errors.get_string(table, "kind")) {
    auto kind = parse_kind(*kind_text);
    if (kind) {
      db.kind = *kind;
    } else {
      errors.add_at(*table.get("kind"),
                    fmt::format("'kind' must be auto, country, city, asn or anonymous_ip, got '{}'", *kind_text));
    }
  }
  db.paths.country = read_path(table, "country_path", errors);
  db.paths.registered_country = read_path(table, "registered_country_path", errors);
  db.paths.subdivision = read_path(table, "subdivision_path", errors);
  db.paths.asn = read_path(table, "asn_path", errors);
  db.paths.as_org = read_path(table, "as_org_path", errors);
  config.databases.push_back(std::move(db));
}

}  // namespace

std::string_view to_string(GeoDatabaseKind kind) {
  switch (kind) {
    case GeoDatabaseKind::kAuto: return "auto";
    case GeoDatabaseKind::kCountry: return "country";
    case GeoDatabaseKind::kAsn: return "asn";
    case GeoDatabaseKind::kAnonymousIp: return "anonymous_ip";
  }
  return "auto";
}

void GeoConfig::add_database(std::string path) {
  GeoDatabaseConfig db;
  db.path = std::move(path);
  databases.push_back(std::move(db));
}

GeoConfig parse_geo_config(const toml::table& section, ConfigErrors& errors) {
  GeoConfig config;
  errors.reject_unknown_keys(section, {"database", "cache_entries", "reload_check_interval_s"}, "[geo]");
  if (auto n = errors.get_int(section, "cache_entries", 0, 1 << 24))
    config.cache_entries = static_cast<std::uint32_t>(*n);
  if (auto n = errors.get_int(section, "reload_check_interval_s", 0, 86400)) {
    config.reload_check_interval_s = static_cast<std::uint32_t>(*n);
  }
  const toml::node* databases = section.get("database");
  if (databases == nullptr) return config;
  const toml::array* array = databases->as_array();
  if (array == nullptr) {
    errors.add_at(*databases, "'database' must be an array of tables ([[geo.database]])");
    return config;
  }
  for (const toml::node& element : *array) {
    if (const toml::table* table = element.as_table()) {
      parse_database(*table, errors, config);
    } else {
      errors.add_at(element, "each [[geo.database]] entry must be a table");
    }
  }
  return config;
}

}  // namespace ipattrib::agent
