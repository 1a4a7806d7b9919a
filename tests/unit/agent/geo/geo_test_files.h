// Files the geo tests use: MaxMind's test databases from ../shared (absent in
// a user's clone), the npm country database fetch-geo.sh installs, and a
// per-test scratch folder for databases written with MmdbWriter.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "agent/geo/geo_database.h"
#include "tests/support/mmdb_writer.h"

namespace ipattrib::agent::geo_test {

inline std::string maxmind_test_db(const std::string& name) {
  return std::string(IPATTRIB_SOURCE_DIR) + "/../shared/testdata/mmdb/" + name;
}

inline std::string npm_country_db() {
  return std::string(IPATTRIB_SOURCE_DIR) + "/var/geo/geo-whois-asn-country.mmdb";
}

#define SKIP_UNLESS_EXISTS(path)                                          \
  do {                                                                    \
    if (!std::filesystem::exists(path))                                   \
      GTEST_SKIP() << (path)                                              \
                   << " absent (MaxMind test DBs live in "                \
                      "../shared/testdata/mmdb; the npm DB is installed " \
                      "by scripts/fetch-geo.sh)";                         \
  } while (0)

// A fresh folder per test, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() / (std::string("ipattrib-geo-") + info->test_suite_name() + "-" +
                                                      info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress());
}

inline std::shared_ptr<const GeoDatabase> open_db(const std::string& path,
                                                  GeoDatabaseKind kind = GeoDatabaseKind::kAuto) {
  GeoDatabaseConfig config;
  config.path = path;
  config.kind = kind;
  std::shared_ptr<const GeoDatabase> db;
  Status s = GeoDatabase::open(config, &db);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return db;
}

inline GeoInfo lookup(const GeoDatabase& db, const char* text) {
  GeoInfo info;
  const GeoLookupOutcome outcome = db.lookup(ip(text), info);
  EXPECT_FALSE(outcome.failed) << text;
  return info;
}

// {"country": {"iso_code": cc}} plus, when given, {"subdivisions": [{"iso_code": sub}]}.
inline test_support::MmdbValue city_record(const char* cc, const char* sub = nullptr) {
  using test_support::MmdbValue;
  std::vector<MmdbValue::Entry> entries{{"country", MmdbValue::map({{"iso_code", cc}})},
                                        {"registered_country", MmdbValue::map({{"iso_code", cc}})}};
  if (sub != nullptr) entries.emplace_back("subdivisions", MmdbValue::array({MmdbValue::map({{"iso_code", sub}})}));
  return MmdbValue::map(std::move(entries));
}

}  // namespace ipattrib::agent::geo_test
