#include "agent/geo/geo_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "agent/geo/geo_cache.h"
#include "tests/unit/agent/geo/geo_test_files.h"

namespace ipattrib::agent {
namespace {

using geo_test::ip;
using test_support::MmdbWriter;

class RecordingSink : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

class GeoResolverTest : public ::testing::Test {
 protected:
  // Writes a country DB beside `name` and renames it over, as geoipupdate does.
  void install(const std::string& name, const char* country, const char* subdivision) {
    MmdbWriter writer;
    for (int i = 0; i < 64; ++i)
      writer.add("10." + std::to_string(i) + ".0.0/16", geo_test::city_record(country, subdivision));
    const std::string tmp = dir_.file(name + ".tmp");
    ASSERT_TRUE(writer.write(tmp, "GeoIP2-City", 1700000000).is_ok());
    std::filesystem::rename(tmp, dir_.file(name));
  }
  void install_garbage(const std::string& name) {
    const std::string tmp = dir_.file(name + ".tmp");
    std::ofstream(tmp) << "not a database, just a half-downloaded file";
    std::filesystem::rename(tmp, dir_.file(name));
  }

  geo_test::ScratchDir dir_;
};

TEST_F(GeoResolverTest, MissingRequiredDatabaseNamesThePath) {
  GeoConfig config;
  config.add_database(dir_.file("GeoLite2-City.mmdb"));
  GeoResolver resolver(config);
  Status s = resolver.open();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(dir_.file("GeoLite2-City.mmdb")), std::string::npos) << s.message();
}

TEST_F(GeoResolverTest, MissingOptionalDatabaseIsPickedUpLater) {
  install("city.mmdb", "GB", "ENG");
  GeoConfig config;
  config.add_database(dir_.file("city.mmdb"));
  GeoDatabaseConfig anon;
  anon.path = dir_.file("anon.mmdb");
  anon.optional = true;
  config.databases.push_back(anon);
  GeoResolver resolver(config);
  ASSERT_TRUE(resolver.open().is_ok());
  ASSERT_EQ(resolver.snapshot()->databases.size(), 2u);
  EXPECT_EQ(resolver.snapshot()->databases[1], nullptr);
  EXPECT_FALSE(resolver.check_for_changes());

  MmdbWriter writer;
  writer.add("10.1.0.0/16", test_support::MmdbValue::map({{"is_anonymous", true}, {"is_tor_exit_node", true}}));
  ASSERT_TRUE(writer.write(dir_.file("anon.mmdb"), "GeoIP2-Anonymous-IP", 1).is_ok());
  EXPECT_TRUE(resolver.check_for_changes());
  GeoInfo info;
  resolver.snapshot()->lookup(ip("10.1.2.3"), info);
  EXPECT_EQ(info.country.view(), "GB");
  EXPECT_EQ(info.anonymizer_flags, kAnonymous | kTorExitNode);
}

TEST_F(GeoResolverTest, UnchangedFilesAreNotReopened) {
  install("city.mmdb", "GB", "ENG");
  GeoConfig config;
  config.add_database(dir_.file("city.mmdb"));
  GeoResolver resolver(config);
  ASSERT_TRUE(resolver.open().is_ok());
  const auto generation = resolver.generation();
  EXPECT_FALSE(resolver.check_for_changes());
  EXPECT_EQ(resolver.generation(), generation);
  ASSERT_TRUE(resolver.reload().is_ok());  // SIGHUP reopens regardless
  EXPECT_EQ(resolver.generation(), generation + 1);
}

TEST_F(GeoResolverTest, CorruptReplacementKeepsTheOldDatabase) {
  install("city.mmdb", "GB", "ENG");
  GeoConfig config;
  config.add_database(dir_.file("city.mmdb"));
  GeoResolver resolver(config);
  ASSERT_TRUE(resolver.open().is_ok());
  GeoCache cache(resolver, 64);

  install_garbage("city.mmdb");
  EXPECT_FALSE(resolver.check_for_changes());
  EXPECT_FALSE(resolver.check_for_changes());  // the same broken file is reported once
  Status s = resolver.reload();
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(dir_.file("city.mmdb")), std::string::npos) << s.message();
  GeoInfo info;
  cache.enrich(ip("10.3.0.1"), info);
  EXPECT_EQ(info.country.view(), "GB");

  std::filesystem::remove(dir_.file("city.mmdb"));
  EXPECT_FALSE(resolver.check_for_changes());
  cache.enrich(ip("10.3.0.1"), info);
  EXPECT_EQ(info.country.view(), "GB");

  RecordingSink sink;
  resolver.report_stats(sink);
  EXPECT_EQ(sink.values.at("geo.reload_failures"), 3u);  // check, reload, missing
  EXPECT_EQ(sink.values.at("geo.reloads"), 0u);
  EXPECT_EQ(sink.values.at("geo.databases_open"), 1u);
  EXPECT_GT(sink.values.at("geo.db_age_s"), 0u);
}

// Two workers look up continuously while the file is replaced under them:
// every answer is a whole old or whole new record, never a failure, and
// both workers end up on the new one.
TEST_F(GeoResolverTest, ReplacementUnderRunningLookups) {
  install("city.mmdb", "GB", "ENG");
  GeoConfig config;
  config.add_database(dir_.file("city.mmdb"));
  GeoResolver resolver(config);
  ASSERT_TRUE(resolver.open().is_ok());

  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> failed{0};
  std::atomic<int> saw_new[2] = {0, 0};
  auto worker = [&](int id) {
    GeoCache cache(resolver, 256);
    std::uint32_t n = static_cast<std::uint32_t>(id) * 7919;
    while (!stop.load()) {
      GeoInfo info;
      n = n * 1103515245u + 12345u;
      const std::uint8_t bytes[4] = {10, static_cast<std::uint8_t>((n >> 8) % 64), static_cast<std::uint8_t>(n >> 16),
                                     static_cast<std::uint8_t>(n >> 24)};
      cache.enrich(IpAddress::from_v4_bytes(bytes), info);
      const bool old_answer = info.country.view() == "GB" && info.subdivision.view() == "GB-ENG";
      const bool new_answer = info.country.view() == "FR" && info.subdivision.view() == "FR-IDF";
      if (!old_answer && !new_answer) torn.fetch_add(1);
      if (new_answer) saw_new[id].store(1);
    }
    failed.fetch_add(static_cast<int>(cache.stats().lookups_failed));
  };
  std::thread a(worker, 0);
  std::thread b(worker, 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let both run on the old file
  install_garbage("city.mmdb");
  EXPECT_FALSE(resolver.check_for_changes());
  install("city.mmdb", "FR", "IDF");
  EXPECT_TRUE(resolver.check_for_changes());
  // Not a timing assertion: waits for an event that must happen, with a
  // generous bound so a broken build fails instead of hanging.
  for (int i = 0; i < 2000 && !(saw_new[0].load() && saw_new[1].load()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.store(true);
  a.join();
  b.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(saw_new[0].load(), 1);
  EXPECT_EQ(saw_new[1].load(), 1);
}

}  // namespace
}  // namespace ipattrib::agent
