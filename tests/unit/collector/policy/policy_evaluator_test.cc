// The evaluator: which measures a record falls under, why, and which of its
// access times count.
#include "collector/policy/policy_evaluator.h"

#include <gtest/gtest.h>

#include "collector/policy/policy_json.h"
#include "ipattrib/geo_info.h"

namespace ipattrib::collector {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t k2024 = 1704067200000;  // 2024-01-01T00:00:00Z

SpecialMeasure measure(std::string id, Severity severity) {
  SpecialMeasure m;
  m.id = id;
  m.title = "title of " + id;
  m.basis = "basis of " + id;
  m.severity = severity;
  m.effective_ms = k2024;
  m.effective_text = "2024-01-01";
  return m;
}

AttributionRecord record(const char* ip, std::string country, std::vector<std::int64_t> times) {
  AttributionRecord r;
  r.account = "acct-1";
  r.client_ip = *IpAddress::parse(ip);
  r.access_class = RecordClass::kAdmin;
  r.gateway = "gw-a";
  r.geo.country = std::move(country);
  r.access_times_ms = std::move(times);
  return r;
}

std::vector<AlertHit> evaluate(const PolicyEvaluator& e, const AttributionRecord& r) {
  std::vector<AlertHit> hits;
  e.evaluate(r, hits);
  return hits;
}

SpecialMeasuresPolicy policy_of(std::vector<SpecialMeasure> measures) {
  SpecialMeasuresPolicy p;
  p.source = "test.toml";
  p.measures = std::move(measures);
  return p;
}

TEST(PolicyEvaluatorTest, CountryHitCarriesTheWholeRecord) {
  SpecialMeasure m = measure("iran", Severity::kCritical);
  m.countries = {"IR"};
  PolicyEvaluator e(policy_of({m}));
  AttributionRecord r = record("192.0.2.1", "IR", {k2024 + 5, k2024 + 9, k2024 + 20});
  r.geo.asn = 197207;
  std::vector<AlertHit> hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 1u);
  const AlertHit& h = hits[0];
  EXPECT_EQ(h.measure_id, "iran");
  EXPECT_EQ(h.measure_title, "title of iran");
  EXPECT_EQ(h.severity, Severity::kCritical);
  EXPECT_EQ(h.reason, "country IR");
  EXPECT_EQ(h.account, "acct-1");
  EXPECT_EQ(h.ip, r.client_ip);
  EXPECT_EQ(h.access_class, RecordClass::kAdmin);
  EXPECT_EQ(h.geo, r.geo);
  EXPECT_EQ(h.gateway, "gw-a");
  EXPECT_EQ(h.first_access_ms, k2024 + 5);
  EXPECT_EQ(h.last_access_ms, k2024 + 20);
  EXPECT_EQ(h.count, 3u);

  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "US", {k2024 + 5})).empty());
  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "", {k2024 + 5})).empty());
}

TEST(PolicyEvaluatorTest, RegisteredCountryOnlyWhenTheMeasureAsks) {
  SpecialMeasure with = measure("with", Severity::kCritical);
  with.countries = {"CU"};
  with.match_registered_country = true;
  SpecialMeasure without = measure("without", Severity::kHigh);
  without.countries = {"CU"};
  PolicyEvaluator e(policy_of({with, without}));
  AttributionRecord r = record("192.0.2.1", "ES", {k2024});
  r.geo.registered_country = "CU";
  std::vector<AlertHit> hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].measure_id, "with");
  EXPECT_EQ(hits[0].reason, "registered country CU");

  // Located and registered in CU: both match, on the country.
  r.geo.country = "CU";
  hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].reason, "country CU");
  EXPECT_EQ(hits[1].reason, "country CU");
}

TEST(PolicyEvaluatorTest, SubdivisionMatchesNotItsCountry) {
  SpecialMeasure m = measure("crimea", Severity::kCritical);
  m.subdivisions = {"UA-43", "UA-40"};
  PolicyEvaluator e(policy_of({m}));
  AttributionRecord r = record("192.0.2.1", "UA", {k2024});
  EXPECT_TRUE(evaluate(e, r).empty());
  r.geo.subdivision = "UA-40";
  std::vector<AlertHit> hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].reason, "subdivision UA-40");
  r.geo.subdivision = "UA-30";
  EXPECT_TRUE(evaluate(e, r).empty());
}

TEST(PolicyEvaluatorTest, AccountNetworksAsnAndAnonymizer) {
  SpecialMeasure person = measure("person", Severity::kHigh);
  person.accounts = {"acct-bad"};
  SpecialMeasure nets = measure("nets", Severity::kHigh);
  nets.networks = {*Cidr::parse("198.51.100.0/24"), *Cidr::parse("2001:db8:40::/48")};
  SpecialMeasure asn = measure("asn", Severity::kReview);
  asn.asns = {64500, 64501};
  SpecialMeasure anon = measure("anon", Severity::kReview);
  anon.anonymizer_flags = kTorExitNode | kPublicProxy;
  PolicyEvaluator e(policy_of({person, nets, asn, anon}));

  auto only = [&](const AttributionRecord& r) {
    std::vector<AlertHit> hits = evaluate(e, r);
    EXPECT_EQ(hits.size(), 1u);
    return hits.empty() ? std::pair<std::string, std::string>() : std::pair{hits[0].measure_id, hits[0].reason};
  };
  AttributionRecord r = record("192.0.2.1", "US", {k2024});
  EXPECT_TRUE(evaluate(e, r).empty());
  r.account = "acct-bad";
  EXPECT_EQ(only(r), (std::pair<std::string, std::string>{"person", "account acct-bad"}));

  EXPECT_EQ(only(record("198.51.100.77", "US", {k2024})),
            (std::pair<std::string, std::string>{"nets", "network 198.51.100.0/24"}));
  EXPECT_TRUE(evaluate(e, record("198.51.101.1", "US", {k2024})).empty());
  EXPECT_EQ(only(record("2001:db8:40:ffff::1", "US", {k2024})),
            (std::pair<std::string, std::string>{"nets", "network 2001:db8:40::/48"}));
  EXPECT_TRUE(evaluate(e, record("2001:db8:41::1", "US", {k2024})).empty());

  r = record("192.0.2.1", "US", {k2024});
  r.geo.asn = 64501;
  EXPECT_EQ(only(r), (std::pair<std::string, std::string>{"asn", "asn 64501"}));
  r.geo.asn = 64502;
  EXPECT_TRUE(evaluate(e, r).empty());

  r.geo.anonymizer_flags = kTorExitNode | kHostingProvider;
  EXPECT_EQ(only(r), (std::pair<std::string, std::string>{"anon", "tor_exit_node"}));
  r.geo.anonymizer_flags = kAnonymousVpn | kHostingProvider;  // not what the measure names
  EXPECT_TRUE(evaluate(e, r).empty());
}

TEST(PolicyEvaluatorTest, EffectiveAndExpiresSplitOneRecordsAccesses) {
  SpecialMeasure m = measure("window", Severity::kCritical);
  m.countries = {"IR"};
  m.effective_ms = k2024 + kDay;
  m.expires_ms = k2024 + 2 * kDay;
  PolicyEvaluator e(policy_of({m}));
  // Before, exactly at effective, inside, one ms before expiry, exactly at
  // expiry (excluded), after.
  AttributionRecord r = record("192.0.2.1", "IR",
                               {k2024, k2024 + kDay - 1, k2024 + kDay, k2024 + kDay + 7, k2024 + 2 * kDay - 1,
                                k2024 + 2 * kDay, k2024 + 3 * kDay});
  std::vector<AlertHit> hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].first_access_ms, k2024 + kDay);
  EXPECT_EQ(hits[0].last_access_ms, k2024 + 2 * kDay - 1);
  EXPECT_EQ(hits[0].count, 3u);

  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "IR", {k2024, k2024 + kDay - 1})).empty());
  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "IR", {k2024 + 2 * kDay, k2024 + 9 * kDay})).empty());
}

TEST(PolicyEvaluatorTest, SeveralMeasuresHitOneRecordEachWithItsOwnPeriod) {
  SpecialMeasure old_one = measure("old", Severity::kHigh);
  old_one.countries = {"RU"};
  old_one.expires_ms = k2024 + 10;
  SpecialMeasure country = measure("country", Severity::kHigh);
  country.countries = {"RU"};
  country.effective_ms = k2024 + 10;
  SpecialMeasure two_ways = measure("two-ways", Severity::kReview);
  two_ways.countries = {"RU"};
  two_ways.asns = {64500};
  two_ways.networks = {*Cidr::parse("192.0.2.0/24")};
  SpecialMeasure other = measure("other", Severity::kCritical);
  other.countries = {"KP"};
  PolicyEvaluator e(policy_of({old_one, country, two_ways, other}));
  AttributionRecord r = record("192.0.2.1", "RU", {k2024 + 1, k2024 + 10, k2024 + 11});
  r.geo.asn = 64500;
  std::vector<AlertHit> hits = evaluate(e, r);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].measure_id, "old");
  EXPECT_EQ(hits[0].count, 1u);
  EXPECT_EQ(hits[0].last_access_ms, k2024 + 1);
  EXPECT_EQ(hits[1].measure_id, "country");
  EXPECT_EQ(hits[1].count, 2u);
  EXPECT_EQ(hits[1].first_access_ms, k2024 + 10);
  EXPECT_EQ(hits[2].measure_id, "two-ways");
  EXPECT_EQ(hits[2].reason, "country RU, network 192.0.2.0/24, asn 64500");
  EXPECT_EQ(hits[2].count, 3u);
}

TEST(PolicyEvaluatorTest, MatchIgnoresPeriods) {
  SpecialMeasure m = measure("future", Severity::kInfo);
  m.countries = {"SY"};
  m.effective_ms = k2024 + 100 * kDay;
  PolicyEvaluator e(policy_of({m}));
  RecordGeo geo;
  geo.country = "SY";
  std::vector<MeasureMatch> matches;
  e.match(geo, "a", *IpAddress::parse("192.0.2.1"), matches);
  EXPECT_EQ(matches, std::vector<MeasureMatch>{(MeasureMatch{0, "country SY"})});
  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "SY", {k2024})).empty());
}

TEST(PolicyEvaluatorTest, EmptyPolicyMatchesNothing) {
  PolicyEvaluator e(policy_of({}));
  EXPECT_TRUE(evaluate(e, record("192.0.2.1", "IR", {k2024})).empty());
}

TEST(PolicyJsonTest, ListsEveryField) {
  SpecialMeasure m = measure("m", Severity::kReview);
  m.countries = {"CU"};
  m.match_registered_country = true;
  m.networks = {*Cidr::parse("2001:db8::/32")};
  m.asns = {64500};
  m.anonymizer_flags = kTorExitNode;
  m.expires_ms = k2024 + kDay;
  m.expires_text = "2024-01-02";
  const nlohmann::json j = policy_to_json(policy_of({m}));
  EXPECT_EQ(j["source"], "test.toml");
  ASSERT_EQ(j["measures"].size(), 1u);
  const nlohmann::json& jm = j["measures"][0];
  EXPECT_EQ(jm["id"], "m");
  EXPECT_EQ(jm["title"], "title of m");
  EXPECT_EQ(jm["basis"], "basis of m");
  EXPECT_EQ(jm["severity"], "review");
  EXPECT_EQ(jm["effective"], "2024-01-01");
  EXPECT_EQ(jm["effective_ms"], k2024);
  EXPECT_EQ(jm["expires"], "2024-01-02");
  EXPECT_EQ(jm["expires_ms"], k2024 + kDay);
  EXPECT_EQ(jm["countries"], nlohmann::json::array({"CU"}));
  EXPECT_EQ(jm["match_registered_country"], true);
  EXPECT_EQ(jm["subdivisions"], nlohmann::json::array());
  EXPECT_EQ(jm["accounts"], nlohmann::json::array());
  EXPECT_EQ(jm["networks"], nlohmann::json::array({"2001:db8::/32"}));
  EXPECT_EQ(jm["asns"], nlohmann::json::array({64500}));
  EXPECT_EQ(jm["anonymizers"], nlohmann::json::array({"tor_exit_node"}));

  m.expires_ms.reset();
  EXPECT_TRUE(measure_to_json(m)["expires"].is_null());
}

}  // namespace
}  // namespace ipattrib::collector
