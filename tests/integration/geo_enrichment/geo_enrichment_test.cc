// End to end through the agent binary: a generated gateway capture, geo
// databases written by the test in the MaxMind DB format (a City database
// placing client ranges in Iran, in Crimea (UA-43) and in North Korea, an ASN
// database, an Anonymous-IP database marking a range as Tor exits), passed
// with --geo-db. Every event must carry exactly the geo of its client IP, and
// clients outside those ranges explicit unknowns.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ipattrib/ip_address.h"
#include "tests/support/mmdb_writer.h"

namespace ipattrib {
namespace {

using test_support::MmdbValue;
using test_support::MmdbWriter;

const Cidr kIranRange = *Cidr::parse("198.18.0.0/16");
const Cidr kCrimeaRange = *Cidr::parse("100.64.0.0/10");
const Cidr kKoreaRange = *Cidr::parse("2001:db8::/32");

void write_databases(const std::string& dir) {
  MmdbWriter city;
  city.add(kIranRange, MmdbValue::map({{"country", MmdbValue::map({{"iso_code", "IR"}})},
                                        {"registered_country", MmdbValue::map({{"iso_code", "IR"}})}}));
  city.add(kCrimeaRange,
           MmdbValue::map({{"country", MmdbValue::map({{"iso_code", "UA"}})},
                           {"subdivisions", MmdbValue::array({MmdbValue::map({{"iso_code", "43"}})})}}));
  city.add(kKoreaRange, MmdbValue::map({{"country", MmdbValue::map({{"iso_code", "KP"}})}}));
  ASSERT_TRUE(city.write(dir + "/city.mmdb", "GeoIP2-City", 1763856000).is_ok());

  MmdbWriter asn;
  asn.add(kIranRange, MmdbValue::map({{"autonomous_system_number", MmdbValue(64500u)},
                                       {"autonomous_system_organization", "Example Transit"}}));
  ASSERT_TRUE(asn.write(dir + "/asn.mmdb", "GeoLite2-ASN", 1763856000).is_ok());

  MmdbWriter anonymous;
  anonymous.add(kCrimeaRange, MmdbValue::map({{"is_anonymous", true}, {"is_tor_exit_node", true}}));
  ASSERT_TRUE(anonymous.write(dir + "/anon.mmdb", "GeoIP2-Anonymous-IP", 1763856000).is_ok());
}

int run(const std::string& command) { return std::system(command.c_str()); }

TEST(GeoEnrichmentTest, EveryEventCarriesTheGeoOfItsClientIp) {
  const std::string dir = testing::TempDir() + "/geo_enrichment";
  ASSERT_EQ(run("rm -rf '" + dir + "' && mkdir -p '" + dir + "'"), 0);
  write_databases(dir);
  ASSERT_EQ(run(std::string(IPATTRIB_GEN_BIN) + " --requests 5000 --seed 11 --out " + dir + "/gen.pcap --truth " +
                dir + "/truth.tsv --config-out " + dir + "/gen.toml --keys-out " + dir + "/keys.tsv 2>/dev/null"),
            0);
  ASSERT_EQ(run(std::string(IPATTRIB_AGENT_BIN) + " --config " + dir + "/gen.toml --read " + dir + "/gen.pcap" +
                " --geo-db " + dir + "/city.mmdb --geo-db " + dir + "/asn.mmdb --geo-db " + dir + "/anon.mmdb" +
                " --events " + dir + "/events.jsonl 2>" + dir + "/agent.log"),
            0);

  std::ifstream log_in(dir + "/agent.log");
  std::stringstream log;
  log << log_in.rdbuf();
  EXPECT_NE(log.str().find("geo.databases_open=3"), std::string::npos) << log.str();

  std::ifstream in(dir + "/events.jsonl");
  int iran = 0, crimea = 0, korea = 0, elsewhere = 0;
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line);
    const IpAddress client = *IpAddress::parse(e["client_ip"].get<std::string>());
    EXPECT_EQ(e["geo_db_build"], "2025-11-23T00:00:00Z") << line;  // the City database's build_epoch
    if (kIranRange.contains(client)) {
      ++iran;
      EXPECT_EQ(e["country"], "IR") << line;
      EXPECT_EQ(e["registered_country"], "IR") << line;
      EXPECT_EQ(e["asn"], 64500) << line;
      EXPECT_EQ(e["as_org"], "Example Transit") << line;
      EXPECT_TRUE(e["subdivision"].is_null()) << line;
      EXPECT_TRUE(e["anonymizer"].empty()) << line;
    } else if (kCrimeaRange.contains(client)) {
      ++crimea;
      EXPECT_EQ(e["country"], "UA") << line;
      EXPECT_EQ(e["subdivision"], "UA-43") << line;
      EXPECT_TRUE(e["asn"].is_null()) << line;
      EXPECT_EQ(e["anonymizer"], nlohmann::json::array({"anonymous", "tor_exit_node"})) << line;
    } else if (kKoreaRange.contains(client)) {
      ++korea;
      EXPECT_EQ(e["country"], "KP") << line;
      EXPECT_TRUE(e["registered_country"].is_null()) << line;
    } else {
      ++elsewhere;
      EXPECT_TRUE(e["country"].is_null()) << line;
      EXPECT_TRUE(e["asn"].is_null()) << line;
      EXPECT_TRUE(e["anonymizer"].empty()) << line;
    }
  }
  // The generator's population covers every range; each must be exercised.
  EXPECT_GT(iran, 0);
  EXPECT_GT(crimea, 0);
  EXPECT_GT(korea, 0);
  EXPECT_GT(elsewhere, 0);
  EXPECT_EQ(iran + crimea + korea + elsewhere, 5000);
}

}  // namespace
}  // namespace ipattrib
