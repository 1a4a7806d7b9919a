#include "agent/geo/geo_database.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tests/unit/agent/geo/geo_test_files.h"

// libmaxminddb 1.7.1 leaks a decode pool when MMDB_open fails on corrupt
// description metadata (fixed upstream in maxmind/libmaxminddb#356). Not ours
// to fix; the resolver does not retry a file that failed, so it cannot pile up.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libmaxminddb.so\n";
}

namespace ipattrib::agent {
namespace {

using geo_test::ip;
using geo_test::lookup;
using geo_test::open_db;
using test_support::MmdbValue;
using test_support::MmdbWriter;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Status try_open(const std::string& path, GeoDatabaseKind kind = GeoDatabaseKind::kAuto) {
  GeoDatabaseConfig config;
  config.path = path;
  config.kind = kind;
  std::shared_ptr<const GeoDatabase> db;
  return GeoDatabase::open(config, &db);
}

// --- MaxMind's own test databases, answers from EXAMPLES.md ---------------

TEST(GeoDatabaseMaxmindTest, CityCountryAndSubdivision) {
  const std::string path = geo_test::maxmind_test_db("GeoIP2-City-Test.mmdb");
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->kind(), GeoDatabaseKind::kCountry);
  EXPECT_EQ(db->schema(), "maxmind");
  struct Case {
    const char* ip;
    const char* country;
    const char* subdivision;
  };
  for (const Case& c :
       {Case{"81.2.69.142", "GB", "GB-ENG"}, Case{"89.160.20.112", "SE", "SE-E"}, Case{"216.160.83.56", "US", "US-WA"},
        Case{"175.16.199.0", "CN", "CN-22"}, Case{"67.43.156.0", "BT", ""}, Case{"2001:218::", "JP", ""},
        Case{"2a02:cf40::1", "NO", ""}, Case{"::ffff:81.2.69.142", "GB", "GB-ENG"}}) {
    const GeoInfo info = lookup(*db, c.ip);
    EXPECT_EQ(info.country.view(), c.country) << c.ip;
    EXPECT_EQ(info.subdivision.view(), c.subdivision) << c.ip;
    EXPECT_EQ(info.db_build_epoch, db->build_epoch()) << c.ip;
  }
  for (const char* unknown : {"2001:480::1", "10.0.0.1"}) {
    const GeoInfo info = lookup(*db, unknown);
    EXPECT_FALSE(info.country.known()) << unknown;
    EXPECT_FALSE(info.subdivision.known()) << unknown;
  }
}

TEST(GeoDatabaseMaxmindTest, CountryRegisteredCountry) {
  const std::string path = geo_test::maxmind_test_db("GeoIP2-Country-Test.mmdb");
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  struct Case {
    const char* ip;
    const char* country;
    const char* registered;
  };
  for (const Case& c : {Case{"81.2.69.142", "GB", "US"}, Case{"89.160.20.112", "SE", "DE"},
                        Case{"216.160.83.56", "US", "GB"}, Case{"202.196.224.0", "PH", "PH"},
                        Case{"67.43.156.1", "BT", "RO"}, Case{"214.1.1.1", "", ""}, Case{"2001:218::", "JP", "JP"},
                        Case{"2a02:d400::1", "HU", "HU"}, Case{"2001:220::1", "KR", "KR"}, Case{"1.1.1.1", "", ""}}) {
    const GeoInfo info = lookup(*db, c.ip);
    EXPECT_EQ(info.country.view(), c.country) << c.ip;
    EXPECT_EQ(info.registered_country.view(), c.registered) << c.ip;
  }
}

TEST(GeoDatabaseMaxmindTest, GeoLite2Country) {
  const std::string path = geo_test::maxmind_test_db("GeoLite2-Country-Test.mmdb");
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(lookup(*db, "2.125.160.216").registered_country.view(), "FR");
  EXPECT_EQ(lookup(*db, "2001:2b8::5").country.view(), "KR");
  EXPECT_FALSE(lookup(*db, "192.168.1.1").country.known());
}

TEST(GeoDatabaseMaxmindTest, Asn) {
  const std::string path = geo_test::maxmind_test_db("GeoLite2-ASN-Test.mmdb");
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->kind(), GeoDatabaseKind::kAsn);
  struct Case {
    const char* ip;
    std::uint32_t asn;
    const char* org;
  };
  for (const Case& c :
       {Case{"1.128.0.1", 1221, "Telstra Pty Ltd"}, Case{"12.81.92.1", 7018, "AT&T Services"},
        Case{"15.0.0.1", 71, "Hewlett-Packard Company"}, Case{"38.73.131.5", 174, "Cogent Communications"},
        Case{"89.160.20.112", 29518, "Bredband2 AB"}, Case{"2600:6000::1", 237, "Merit Network Inc."},
        Case{"2001:1700::1", 6730, "Sunrise Communications AG"}, Case{"2c0f:ff00::1", 237, "Merit Network Inc."},
        Case{"81.2.69.142", 0, ""}, Case{"127.0.0.1", 0, ""}}) {
    const GeoInfo info = lookup(*db, c.ip);
    EXPECT_EQ(info.asn, c.asn) << c.ip;
    EXPECT_EQ(info.as_org, c.org) << c.ip;
    EXPECT_FALSE(info.country.known()) << c.ip;
  }
  // The lookup reports the network: 1.128.0.0/11 in the source data.
  GeoInfo info;
  EXPECT_EQ(db->lookup(ip("1.128.0.1"), info).prefix_length, 11);
}

TEST(GeoDatabaseMaxmindTest, AnonymousIpFlags) {
  const std::string path = geo_test::maxmind_test_db("GeoIP2-Anonymous-IP-Test.mmdb");
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->kind(), GeoDatabaseKind::kAnonymousIp);
  struct Case {
    const char* ip;
    std::uint8_t flags;
  };
  const std::uint8_t all =
      kAnonymous | kAnonymousVpn | kHostingProvider | kPublicProxy | kTorExitNode | kResidentialProxy;
  for (const Case& c :
       {Case{"1.2.0.1", kAnonymous | kAnonymousVpn}, Case{"1.124.213.1", kAnonymous | kAnonymousVpn | kTorExitNode},
        Case{"81.2.69.1", all}, Case{"71.160.223.5", kAnonymous | kHostingProvider},
        Case{"186.30.236.1", kAnonymous | kPublicProxy}, Case{"65.0.0.1", kAnonymous | kTorExitNode},
        Case{"abcd:1000::1", kAnonymous | kPublicProxy}, Case{"2001:480:3a::1", kAnonymous | kPublicProxy},
        Case{"6.1.0.1", kAnonymous | kAnonymousVpn}, Case{"8.8.8.8", 0}}) {
    EXPECT_EQ(lookup(*db, c.ip).anonymizer_flags, c.flags) << c.ip;
  }
}

// Our writer, fed MaxMind's source JSON, must give the answers MaxMind's own
// writer gives: evidence the writer follows the format.
TEST(GeoDatabaseMaxmindTest, WriterMatchesMaxmindBuild) {
  const std::string source = geo_test::maxmind_test_db("source-data/GeoLite2-ASN-Test.json");
  const std::string official = geo_test::maxmind_test_db("GeoLite2-ASN-Test.mmdb");
  SKIP_UNLESS_EXISTS(source);
  SKIP_UNLESS_EXISTS(official);
  geo_test::ScratchDir dir;
  for (int record_size : {24, 28, 32}) {
    MmdbWriter writer(6, record_size);
    writer.add_source_json(source);
    const std::string ours = dir.file("asn-" + std::to_string(record_size) + ".mmdb");
    ASSERT_TRUE(writer.write(ours, "GeoLite2-ASN", 1700000000).is_ok());
    auto a = open_db(ours);
    auto b = open_db(official);
    ASSERT_TRUE(a && b);
    for (const char* text : {"1.128.0.1", "12.81.92.1", "15.0.0.1", "38.73.131.5", "89.160.20.112", "2600:6000::1",
                             "2001:1700::1", "2c0f:ff00::1", "81.2.69.142", "127.0.0.1", "1.0.0.1"}) {
      const GeoInfo x = lookup(*a, text);
      const GeoInfo y = lookup(*b, text);
      EXPECT_EQ(x.asn, y.asn) << text << " record size " << record_size;
      EXPECT_EQ(x.as_org, y.as_org) << text;
    }
  }
}

// --- databases written by the test's own writer ---------------------------

class GeoDatabaseWrittenTest : public ::testing::Test {
 protected:
  geo_test::ScratchDir dir_;
};

TEST_F(GeoDatabaseWrittenTest, SanctionedCountriesAndSubdivision) {
  MmdbWriter writer;
  writer.add("152.206.0.0/15", geo_test::city_record("CU"));
  writer.add("5.160.0.0/14", geo_test::city_record("IR", "23"));
  writer.add("175.45.176.0/22", geo_test::city_record("KP"));
  writer.add("176.104.32.0/19", geo_test::city_record("UA", "43"));
  writer.add("2a0e:d600::/29", geo_test::city_record("UA", "UA-43"));  // already in ISO 3166-2 form
  const std::string path = dir_.file("city.mmdb");
  ASSERT_TRUE(writer.write(path, "GeoIP2-City", 1700000000).is_ok());
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->kind(), GeoDatabaseKind::kCountry);
  EXPECT_EQ(db->build_epoch(), 1700000000);
  EXPECT_EQ(lookup(*db, "152.207.1.2").country.view(), "CU");
  EXPECT_EQ(lookup(*db, "5.161.0.9").subdivision.view(), "IR-23");
  EXPECT_EQ(lookup(*db, "175.45.179.255").country.view(), "KP");
  const GeoInfo crimea = lookup(*db, "176.104.40.1");
  EXPECT_EQ(crimea.country.view(), "UA");
  EXPECT_EQ(crimea.subdivision.view(), "UA-43");
  EXPECT_EQ(lookup(*db, "2a0e:d601::1").subdivision.view(), "UA-43");
  EXPECT_FALSE(lookup(*db, "175.45.180.0").country.known());
}

TEST_F(GeoDatabaseWrittenTest, TorExitAndAsn) {
  MmdbWriter anonymous;
  anonymous.add("185.220.101.1/32", MmdbValue::map({{"is_anonymous", true}, {"is_tor_exit_node", true}}));
  anonymous.add("2001:db8:7::/48", MmdbValue::map({{"is_anonymous", true}, {"is_anonymous_vpn", true}}));
  ASSERT_TRUE(anonymous.write(dir_.file("anon.mmdb"), "GeoIP2-Anonymous-IP", 1).is_ok());
  MmdbWriter asn;
  asn.add("8.8.8.0/24",
          MmdbValue::map({{"autonomous_system_number", 15169}, {"autonomous_system_organization", "GOOGLE"}}));
  ASSERT_TRUE(asn.write(dir_.file("asn.mmdb"), "GeoLite2-ASN", 1).is_ok());

  auto anon_db = open_db(dir_.file("anon.mmdb"));
  auto asn_db = open_db(dir_.file("asn.mmdb"));
  ASSERT_TRUE(anon_db && asn_db);
  EXPECT_EQ(lookup(*anon_db, "185.220.101.1").anonymizer_flags, kAnonymous | kTorExitNode);
  EXPECT_EQ(lookup(*anon_db, "185.220.101.2").anonymizer_flags, 0);
  EXPECT_EQ(lookup(*anon_db, "2001:db8:7:1::1").anonymizer_flags, kAnonymous | kAnonymousVpn);
  const GeoInfo google = lookup(*asn_db, "8.8.8.8");
  EXPECT_EQ(google.asn, 15169u);
  EXPECT_EQ(google.as_org, "GOOGLE");
  EXPECT_EQ(lookup(*asn_db, "8.8.9.1").asn, 0u);
}

TEST_F(GeoDatabaseWrittenTest, FlatCommunitySchema) {
  MmdbWriter writer;
  writer.add("8.8.8.0/24", MmdbValue::map({{"country_code", "US"}}));
  writer.add("2001:67c:2e8::/48", MmdbValue::map({{"country_code", "nl"}}));
  for (const char* type : {"geo-whois-asn-country", "country ipvAll"}) {
    const std::string path = dir_.file("flat.mmdb");
    ASSERT_TRUE(writer.write(path, type, 1).is_ok());
    auto db = open_db(path);
    ASSERT_TRUE(db);
    EXPECT_EQ(db->kind(), GeoDatabaseKind::kCountry) << type;
    EXPECT_EQ(db->schema(), "flat") << type;
    EXPECT_EQ(lookup(*db, "8.8.8.8").country.view(), "US");
    EXPECT_EQ(lookup(*db, "2001:67c:2e8::2").country.view(), "NL");  // normalised to upper case
    EXPECT_FALSE(lookup(*db, "8.8.8.8").registered_country.known());
  }
}

TEST_F(GeoDatabaseWrittenTest, ConfiguredPathsForAnUnknownSchema) {
  MmdbWriter writer;
  writer.add("10.1.0.0/16", MmdbValue::map({{"loc", MmdbValue::map({{"cc", "DE"}})}}));
  const std::string path = dir_.file("custom.mmdb");
  ASSERT_TRUE(writer.write(path, "acme-geo", 1).is_ok());

  Status unknown = try_open(path);
  EXPECT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.message().find("set kind"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find(path), std::string::npos) << unknown.message();

  GeoDatabaseConfig config;
  config.path = path;
  config.kind = GeoDatabaseKind::kCountry;
  config.paths.country = std::vector<std::string>{"loc", "cc"};
  std::shared_ptr<const GeoDatabase> db;
  ASSERT_TRUE(GeoDatabase::open(config, &db).is_ok());
  EXPECT_EQ(lookup(*db, "10.1.2.3").country.view(), "DE");
}

TEST_F(GeoDatabaseWrittenTest, Ipv4InIpv6TreeAndIpv6InIpv4Tree) {
  MmdbWriter v6;
  v6.add("81.2.69.0/24", geo_test::city_record("GB"));
  v6.add("2a02:cf40::/29", geo_test::city_record("NO"));
  ASSERT_TRUE(v6.write(dir_.file("v6.mmdb"), "GeoIP2-Country", 1).is_ok());
  auto db6 = open_db(dir_.file("v6.mmdb"));
  ASSERT_TRUE(db6);
  GeoInfo info;
  const GeoLookupOutcome outcome = db6->lookup(ip("81.2.69.142"), info);
  EXPECT_EQ(info.country.view(), "GB");
  EXPECT_EQ(outcome.prefix_length, 24);  // in IPv4 bits, not the tree's 120
  EXPECT_EQ(lookup(*db6, "::ffff:81.2.69.142").country.view(), "GB");
  EXPECT_EQ(lookup(*db6, "2a02:cf40::1").country.view(), "NO");
  EXPECT_FALSE(lookup(*db6, "81.2.70.1").country.known());

  MmdbWriter v4(4);
  v4.add("81.2.69.0/24", geo_test::city_record("GB"));
  EXPECT_THROW(v4.add("2a02:cf40::/29", geo_test::city_record("NO")), std::invalid_argument);
  ASSERT_TRUE(v4.write(dir_.file("v4.mmdb"), "GeoIP2-Country", 1).is_ok());
  auto db4 = open_db(dir_.file("v4.mmdb"));
  ASSERT_TRUE(db4);
  EXPECT_EQ(lookup(*db4, "81.2.69.1").country.view(), "GB");
  GeoInfo v6_in_v4;
  const GeoLookupOutcome none = db4->lookup(ip("2a02:cf40::1"), v6_in_v4);
  EXPECT_FALSE(none.failed);
  EXPECT_EQ(none.prefix_length, 0);  // the whole IPv6 space is unknown here
  EXPECT_FALSE(v6_in_v4.country.known());
}

TEST_F(GeoDatabaseWrittenTest, LaterNetworkOverridesPartOfEarlierOne) {
  MmdbWriter writer(6, 28);
  writer.add("10.0.0.0/8", geo_test::city_record("US"));
  writer.add("10.20.30.0/24", geo_test::city_record("IR"));
  ASSERT_TRUE(writer.write(dir_.file("nested.mmdb"), "GeoIP2-Country", 1).is_ok());
  auto db = open_db(dir_.file("nested.mmdb"));
  ASSERT_TRUE(db);
  EXPECT_EQ(lookup(*db, "10.20.30.40").country.view(), "IR");
  EXPECT_EQ(lookup(*db, "10.20.31.40").country.view(), "US");
  EXPECT_EQ(lookup(*db, "10.255.0.1").country.view(), "US");
}

// --- bad files --------------------------------------------------------------

std::string sample_database(const geo_test::ScratchDir& dir) {
  const std::string real = geo_test::maxmind_test_db("GeoIP2-City-Test.mmdb");
  if (std::filesystem::exists(real)) return read_file(real);
  MmdbWriter writer;
  for (int i = 0; i < 200; ++i) {
    writer.add("10." + std::to_string(i) + ".0.0/16", geo_test::city_record(i % 2 ? "GB" : "FR", "ENG"));
  }
  const std::string path = dir.file("sample.mmdb");
  EXPECT_TRUE(writer.write(path, "GeoIP2-City", 1).is_ok());
  return read_file(path);
}

TEST_F(GeoDatabaseWrittenTest, MissingFileNamesThePath) {
  Status s = try_open(dir_.file("nope.mmdb"));
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(dir_.file("nope.mmdb")), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
}

TEST_F(GeoDatabaseWrittenTest, TruncatedDatabaseIsRejected) {
  const std::string bytes = sample_database(dir_);
  const std::string path = dir_.file("half.mmdb");
  write_file(path, bytes.substr(0, bytes.size() / 2));
  Status s = try_open(path);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  write_file(path, "");
  EXPECT_FALSE(try_open(path).is_ok());
}

TEST_F(GeoDatabaseWrittenTest, NotAMaxmindFileIsRejected) {
  const std::string path = dir_.file("text.mmdb");
  write_file(path, std::string(5000, 'x'));
  Status s = try_open(path);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("not a MaxMind DB"), std::string::npos) << s.message();
}

TEST_F(GeoDatabaseWrittenTest, WrongKindIsRejected) {
  MmdbWriter writer;
  writer.add("8.8.8.0/24", MmdbValue::map({{"autonomous_system_number", 15169}}));
  const std::string path = dir_.file("asn.mmdb");
  ASSERT_TRUE(writer.write(path, "GeoLite2-ASN", 1).is_ok());
  Status s = try_open(path, GeoDatabaseKind::kCountry);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("is a asn database"), std::string::npos) << s.message();
}

// Every single-byte corruption of the metadata either fails to open with a
// message or opens into a database whose lookups do not crash.
TEST_F(GeoDatabaseWrittenTest, FlippedMetadataBytesNeverCrash) {
  const std::string bytes = sample_database(dir_);
  const std::size_t marker = bytes.rfind("\xAB\xCD\xEFMaxMind.com");
  ASSERT_NE(marker, std::string::npos);
  const std::string path = dir_.file("flipped.mmdb");
  int rejected = 0;
  for (std::size_t i = marker; i < bytes.size(); ++i) {
    std::string corrupt = bytes;
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0xff);
    write_file(path, corrupt);
    GeoDatabaseConfig config;
    config.path = path;
    std::shared_ptr<const GeoDatabase> db;
    Status s = GeoDatabase::open(config, &db);
    if (!s) {
      ++rejected;
      EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
      continue;
    }
    for (const char* text : {"81.2.69.142", "10.1.2.3", "2001:218::1", "::1", "255.255.255.255"}) {
      GeoInfo info;
      (void)db->lookup(ip(text), info);
    }
  }
  EXPECT_GT(rejected, 0);
}

// Random damage to the tree and data: lookups may fail or come back unknown,
// never crash or read outside the file (ASan build).
TEST_F(GeoDatabaseWrittenTest, DamagedTreeAndDataNeverCrash) {
  const std::string bytes = sample_database(dir_);
  const std::size_t marker = bytes.rfind("\xAB\xCD\xEFMaxMind.com");
  ASSERT_NE(marker, std::string::npos);
  const std::string path = dir_.file("damaged.mmdb");
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u; };
  for (int round = 0; round < 60; ++round) {
    std::string corrupt = bytes;
    for (int k = 0; k < 16; ++k) corrupt[next() % marker] = static_cast<char>(next());
    write_file(path, corrupt);
    GeoDatabaseConfig config;
    config.path = path;
    std::shared_ptr<const GeoDatabase> db;
    if (!GeoDatabase::open(config, &db)) continue;
    for (int k = 0; k < 200; ++k) {
      GeoInfo info;
      (void)db->lookup(IpAddress::from_v4(next()), info);
      EXPECT_LE(info.subdivision.view().size(), sizeof(info.subdivision.code));
    }
  }
}

// --- the npm community database installed by scripts/fetch-geo.sh ----------

TEST(GeoDatabaseNpmTest, WellKnownAddresses) {
  const std::string path = geo_test::npm_country_db();
  SKIP_UNLESS_EXISTS(path);
  auto db = open_db(path);
  ASSERT_TRUE(db);
  EXPECT_EQ(db->kind(), GeoDatabaseKind::kCountry);
  EXPECT_EQ(db->schema(), "flat");
  EXPECT_EQ(lookup(*db, "8.8.8.8").country.view(), "US");
  EXPECT_EQ(lookup(*db, "1.1.1.1").country.view(), "AU");      // APNIC-registered block
  EXPECT_EQ(lookup(*db, "193.0.6.139").country.view(), "NL");  // RIPE NCC
  EXPECT_EQ(lookup(*db, "2001:4860:4860::8888").country.view(), "US");
  EXPECT_EQ(lookup(*db, "2001:67c:2e8::2").country.view(), "NL");
  EXPECT_EQ(lookup(*db, "::ffff:8.8.8.8").country.view(), "US");  // mapped form looked up as IPv4
  EXPECT_FALSE(lookup(*db, "10.0.0.1").country.known());
  EXPECT_GT(lookup(*db, "8.8.8.8").db_build_epoch, 1600000000);
}

}  // namespace
}  // namespace ipattrib::agent
