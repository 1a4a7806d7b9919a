// GeoConfig: the [geo] section — which MaxMind DB files the agent opens, how
// big each worker's prefix cache is, and how often files are checked for
// replacement. Documented with examples in docs/geo.md.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::agent {

// What a database answers. kAuto reads it from the metadata's database_type,
// then from the shape of its first record.
enum class GeoDatabaseKind : std::uint8_t { kAuto, kCountry, kAsn, kAnonymousIp };

std::string_view to_string(GeoDatabaseKind kind);

// Lookup paths into a record (libmaxminddb MMDB_aget_value paths; numeric
// elements index arrays). Unset paths come from the detected schema.
struct GeoLookupPaths {
  std::optional<std::vector<std::string>> country;             // ["country","iso_code"] or ["country_code"]
  std::optional<std::vector<std::string>> registered_country;  // ["registered_country","iso_code"]
  std::optional<std::vector<std::string>> subdivision;         // ["subdivisions","0","iso_code"]
  std::optional<std::vector<std::string>> asn;                 // ["autonomous_system_number"]
  std::optional<std::vector<std::string>> as_org;              // ["autonomous_system_organization"]
};

struct GeoDatabaseConfig {
  std::string path;
  // A missing optional database is skipped with a warning; a missing required
  // one is a start-up error naming the path.
  bool optional = false;
  GeoDatabaseKind kind = GeoDatabaseKind::kAuto;
  GeoLookupPaths paths;
};

struct GeoConfig {
  // In the order given; for each field the first database that knows it wins.
  std::vector<GeoDatabaseConfig> databases;
  // Per worker thread. Rounded up to a multiple of the cache's associativity.
  std::uint32_t cache_entries = 65536;
  // How often the lead's loop calls GeoResolver::check_for_changes(); 0: never
  // (SIGHUP still reloads).
  std::uint32_t reload_check_interval_s = 60;

  // For `--geo-db PATH`: a required database whose kind is read from it.
  void add_database(std::string path);
};

// Parses the [geo] table; records file:line errors and rejects unknown keys.
GeoConfig parse_geo_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::agent
