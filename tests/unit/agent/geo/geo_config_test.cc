#include "agent/geo/geo_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::agent {
namespace {

GeoConfig parse(std::string_view text, ConfigErrors& errors) {
  const toml::table doc = toml::parse(text);
  const toml::table* geo = doc["geo"].as_table();
  if (geo == nullptr) return parse_geo_config(toml::table{}, errors);
  return parse_geo_config(*geo, errors);  // by reference: a copy loses source lines
}

TEST(GeoConfigTest, Defaults) {
  ConfigErrors errors("agent.toml");
  const GeoConfig config = parse("[geo]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_TRUE(config.databases.empty());
  EXPECT_EQ(config.cache_entries, 65536u);
  EXPECT_EQ(config.reload_check_interval_s, 60u);
}

TEST(GeoConfigTest, DatabasesWithOverrides) {
  ConfigErrors errors("agent.toml");
  const GeoConfig config = parse(R"(
[geo]
cache_entries = 1024
reload_check_interval_s = 0

[[geo.database]]
path = "/var/lib/GeoIP/GeoLite2-City.mmdb"

[[geo.database]]
path = "/var/lib/GeoIP/GeoIP2-Anonymous-IP.mmdb"
optional = true
kind = "anonymous_ip"

[[geo.database]]
path = "/opt/geo/custom.mmdb"
kind = "country"
country_path = ["location", "cc"]
asn_path = ["net", "asn"]
)",
                                 errors);
  ASSERT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(config.cache_entries, 1024u);
  EXPECT_EQ(config.reload_check_interval_s, 0u);
  ASSERT_EQ(config.databases.size(), 3u);
  EXPECT_EQ(config.databases[0].path, "/var/lib/GeoIP/GeoLite2-City.mmdb");
  EXPECT_FALSE(config.databases[0].optional);
  EXPECT_EQ(config.databases[0].kind, GeoDatabaseKind::kAuto);
  EXPECT_TRUE(config.databases[1].optional);
  EXPECT_EQ(config.databases[1].kind, GeoDatabaseKind::kAnonymousIp);
  EXPECT_EQ(config.databases[2].paths.country, (std::vector<std::string>{"location", "cc"}));
  EXPECT_EQ(config.databases[2].paths.asn, (std::vector<std::string>{"net", "asn"}));
  EXPECT_FALSE(config.databases[2].paths.subdivision.has_value());
}

TEST(GeoConfigTest, ErrorsCarryLines) {
  ConfigErrors errors("agent.toml");
  parse(R"([geo]
cache_entrys = 5
[[geo.database]]
path = "/x.mmdb"
kind = "planet"
[[geo.database]]
optional = true
[[geo.database]]
path = "/y.mmdb"
country_path = []
)",
        errors);
  const std::string text = errors.to_string();
  EXPECT_NE(text.find("agent.toml:2:"), std::string::npos) << text;
  EXPECT_NE(text.find("cache_entrys"), std::string::npos) << text;
  EXPECT_NE(text.find("agent.toml:5:"), std::string::npos) << text;
  EXPECT_NE(text.find("planet"), std::string::npos) << text;
  EXPECT_NE(text.find("needs a non-empty 'path'"), std::string::npos) << text;
  EXPECT_NE(text.find("agent.toml:10:"), std::string::npos) << text;
}

TEST(GeoConfigTest, RangesAndTypes) {
  ConfigErrors errors("agent.toml");
  parse("[geo]\ncache_entries = -1\nreload_check_interval_s = \"soon\"\ndatabase = \"/x.mmdb\"\n", errors);
  EXPECT_EQ(errors.errors().size(), 3u) << errors.to_string();
}

TEST(GeoConfigTest, CommandLineDatabase) {
  GeoConfig config;
  config.add_database("/tmp/a.mmdb");
  ASSERT_EQ(config.databases.size(), 1u);
  EXPECT_EQ(config.databases[0].path, "/tmp/a.mmdb");
  EXPECT_FALSE(config.databases[0].optional);
  EXPECT_EQ(config.databases[0].kind, GeoDatabaseKind::kAuto);
}

TEST(AnonymizerFlagNamesTest, NamesTheSetFlagsInOrder) {
  std::vector<std::string> names;
  for_each_anonymizer_flag(kTorExitNode | kAnonymous, [&](std::string_view n) { names.emplace_back(n); });
  EXPECT_EQ(names, (std::vector<std::string>{"anonymous", "tor_exit_node"}));
  names.clear();
  for_each_anonymizer_flag(0, [&](std::string_view n) { names.emplace_back(n); });
  EXPECT_TRUE(names.empty());
}

}  // namespace
}  // namespace ipattrib::agent
