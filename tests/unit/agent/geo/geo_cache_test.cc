#include "agent/geo/geo_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/unit/agent/geo/geo_test_files.h"

namespace ipattrib::agent {
namespace {

using geo_test::ip;
using test_support::MmdbValue;
using test_support::MmdbWriter;

class RecordingSink : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

class GeoCacheTest : public ::testing::Test {
 protected:
  // Country DB: 81.2.69.0/24 GB, 10.0.0.0/8 US, four /26 in 192.0.2.0/24,
  // hosts 198.51.100.0-99 each its own /32. ASN DB: 81.2.0.0/16 AS 1.
  void SetUp() override {
    MmdbWriter country;
    country.add("81.2.69.0/24", geo_test::city_record("GB", "ENG"));
    country.add("10.0.0.0/8", geo_test::city_record("US"));
    const char* quarters[] = {"CU", "IR", "KP", "SY"};
    for (int q = 0; q < 4; ++q) {
      country.add("192.0.2." + std::to_string(q * 64) + "/26", geo_test::city_record(quarters[q]));
    }
    for (int h = 0; h < 100; ++h) country.add("198.51.100." + std::to_string(h) + "/32", geo_test::city_record("FR"));
    country.add("2001:db8::/32", geo_test::city_record("DE"));
    // An IPv6 network longer than /64: the cache must compare the low word too.
    country.add("2001:db9::8000:0:0:0/65", geo_test::city_record("NL"));
    ASSERT_TRUE(country.write(dir_.file("country.mmdb"), "GeoIP2-City", 1700000000).is_ok());
    MmdbWriter asn;
    asn.add("81.2.0.0/16",
            MmdbValue::map({{"autonomous_system_number", 1}, {"autonomous_system_organization", "One"}}));
    ASSERT_TRUE(asn.write(dir_.file("asn.mmdb"), "GeoLite2-ASN", 1700000000).is_ok());
    config_.add_database(dir_.file("country.mmdb"));
    config_.add_database(dir_.file("asn.mmdb"));
    resolver_ = std::make_unique<GeoResolver>(config_);
    ASSERT_TRUE(resolver_->open().is_ok());
  }

  GeoInfo enrich(GeoCache& cache, const char* text) {
    GeoInfo info;
    info.asn = 99;  // enrich must overwrite what was there
    cache.enrich(ip(text), info);
    return info;
  }

  geo_test::ScratchDir dir_;
  GeoConfig config_;
  std::unique_ptr<GeoResolver> resolver_;
};

TEST_F(GeoCacheTest, SecondAddressOfTheSameNetworkIsAHit) {
  GeoCache cache(*resolver_, 1024);
  const GeoInfo first = enrich(cache, "81.2.69.1");
  EXPECT_EQ(first.country.view(), "GB");
  EXPECT_EQ(first.subdivision.view(), "GB-ENG");
  EXPECT_EQ(first.asn, 1u);
  EXPECT_EQ(first.as_org, "One");
  EXPECT_EQ(first.db_build_epoch, 1700000000);
  EXPECT_EQ(cache.stats().misses, 1u);

  const GeoInfo second = enrich(cache, "81.2.69.200");
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(second.country.view(), "GB");
  EXPECT_EQ(second.asn, 1u);
  EXPECT_EQ(second.as_org, "One");
}

TEST_F(GeoCacheTest, NetworkIsTheIntersectionOfTheDatabasesNetworks) {
  GeoCache cache(*resolver_, 1024);
  // 81.2.70.1 shares the ASN DB's /16 with 81.2.69.1 but not the country
  // DB's /24: it must not be answered from 81.2.69.1's entry.
  EXPECT_EQ(enrich(cache, "81.2.69.1").country.view(), "GB");
  const GeoInfo other = enrich(cache, "81.2.70.1");
  EXPECT_FALSE(other.country.known());
  EXPECT_EQ(other.asn, 1u);
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats().hits, 0u);
}

TEST_F(GeoCacheTest, DifferentNetworksInOneBucketDoNotAnswerForEachOther) {
  GeoCache cache(*resolver_, 1024);
  const char* expected[] = {"CU", "IR", "KP", "SY"};
  for (int round = 0; round < 2; ++round) {
    for (int q = 0; q < 4; ++q) {
      const std::string address = "192.0.2." + std::to_string(q * 64 + 5 + round);
      EXPECT_EQ(enrich(cache, address.c_str()).country.view(), expected[q]) << address;
    }
  }
  EXPECT_EQ(cache.stats().misses, 4u);
  EXPECT_EQ(cache.stats().hits, 4u);
}

TEST_F(GeoCacheTest, LargeNetworkIsCachedPerBucket) {
  GeoCache cache(*resolver_, 1024);
  EXPECT_EQ(enrich(cache, "10.1.1.1").country.view(), "US");
  EXPECT_EQ(enrich(cache, "10.1.1.2").country.view(), "US");
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(enrich(cache, "10.200.0.1").country.view(), "US");
  EXPECT_LE(cache.stats().misses, 2u);
}

TEST_F(GeoCacheTest, SizeIsBounded) {
  GeoCache cache(*resolver_, 8);
  EXPECT_EQ(cache.capacity(), 8u);
  for (int h = 0; h < 100; ++h) enrich(cache, ("198.51.100." + std::to_string(h)).c_str());
  const auto before = cache.stats();
  for (int h = 0; h < 100; ++h) {
    EXPECT_EQ(enrich(cache, ("198.51.100." + std::to_string(h)).c_str()).country.view(), "FR");
  }
  EXPECT_LE(cache.stats().hits - before.hits, 8u);
  EXPECT_EQ(GeoCache(*resolver_, 65536).capacity(), 65536u);
  EXPECT_EQ(GeoCache(*resolver_, 5).capacity(), 8u);
}

TEST_F(GeoCacheTest, ZeroCapacityAlwaysAsksTheDatabases) {
  GeoCache cache(*resolver_, 0);
  EXPECT_EQ(enrich(cache, "81.2.69.1").country.view(), "GB");
  EXPECT_EQ(enrich(cache, "81.2.69.1").country.view(), "GB");
  EXPECT_EQ(cache.stats().hits, 0u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST_F(GeoCacheTest, FamiliesAndUnsetAddresses) {
  GeoCache cache(*resolver_, 1024);
  EXPECT_EQ(enrich(cache, "2001:db8::1").country.view(), "DE");
  EXPECT_EQ(enrich(cache, "2001:db8::ffff:1").country.view(), "DE");
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(enrich(cache, "::ffff:81.2.69.9").country.view(), "GB");
  EXPECT_FALSE(enrich(cache, "2001:db9::1").country.known());

  GeoInfo info;
  info.asn = 7;
  cache.enrich(IpAddress(), info);
  EXPECT_EQ(info.asn, 0u);
  EXPECT_FALSE(info.country.known());
  EXPECT_EQ(cache.stats().unset_address, 1u);

  RecordingSink sink;
  cache.stats().report(sink);
  EXPECT_EQ(sink.values.at("geo.cache_hits"), cache.stats().hits);
  EXPECT_EQ(sink.values.at("geo.cache_misses"), cache.stats().misses);
  EXPECT_EQ(sink.values.at("geo.lookups_failed"), 0u);
  EXPECT_EQ(sink.values.at("geo.unset_address"), 1u);
}

TEST_F(GeoCacheTest, Ipv6NetworkLongerThan64BitsMatchesOnItsLowBitsToo) {
  GeoCache cache(*resolver_, 1024);
  EXPECT_EQ(enrich(cache, "2001:db9::8000:0:0:1").country.view(), "NL");
  // Same /64, other half of it: outside the /65, so not answered from it.
  EXPECT_FALSE(enrich(cache, "2001:db9::1").country.known());
  EXPECT_EQ(cache.stats().hits, 0u);
  EXPECT_EQ(enrich(cache, "2001:db9::ffff:0:0:2").country.view(), "NL");
  EXPECT_FALSE(enrich(cache, "2001:db9::2").country.known());
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST_F(GeoCacheTest, PrefetchChangesNothing) {
  GeoCache cache(*resolver_, 1024);
  cache.prefetch(ip("81.2.69.1"));
  cache.prefetch(IpAddress());
  EXPECT_EQ(cache.stats().hits + cache.stats().misses + cache.stats().unset_address, 0u);
  EXPECT_EQ(enrich(cache, "81.2.69.1").country.view(), "GB");
  cache.prefetch(ip("81.2.69.2"));
  EXPECT_EQ(enrich(cache, "81.2.69.2").country.view(), "GB");
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().hits, 1u);
  GeoCache disabled(*resolver_, 0);
  disabled.prefetch(ip("81.2.69.1"));  // no table: nothing to fetch
  EXPECT_EQ(enrich(disabled, "81.2.69.1").country.view(), "GB");
}

TEST_F(GeoCacheTest, NewGenerationDropsTheCache) {
  GeoCache cache(*resolver_, 1024);
  EXPECT_EQ(enrich(cache, "81.2.69.1").country.view(), "GB");
  MmdbWriter replacement;
  replacement.add("81.2.69.0/24", geo_test::city_record("IE"));
  ASSERT_TRUE(replacement.write(dir_.file("new.mmdb"), "GeoIP2-City", 1800000000).is_ok());
  std::filesystem::rename(dir_.file("new.mmdb"), dir_.file("country.mmdb"));
  ASSERT_TRUE(resolver_->check_for_changes());
  const GeoInfo after = enrich(cache, "81.2.69.1");
  EXPECT_EQ(after.country.view(), "IE");
  EXPECT_EQ(after.db_build_epoch, 1800000000);
  EXPECT_EQ(cache.generation(), resolver_->generation());
  EXPECT_EQ(cache.stats().hits, 0u);
}

}  // namespace
}  // namespace ipattrib::agent
