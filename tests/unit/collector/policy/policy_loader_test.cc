// The policy file loader: a valid file becomes the expected measures, and
// every kind of mistake is reported at the line it is on.
#include "collector/policy/policy_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "ipattrib/geo_info.h"
#include "policy_test_dir.h"

namespace ipattrib::collector {
namespace {

using ::testing::HasSubstr;

class PolicyLoaderTest : public ::testing::Test {
 protected:
  std::optional<SpecialMeasuresPolicy> load(const std::string& text) {
    dir_.write("policy.toml", text);
    errors_ = ConfigErrors(path_);
    PolicyLoadOptions options;
    options.iso_codes_dir = dir_.iso_dir();
    return load_policy_file(path_, errors_, options);
  }
  // The single error the text must produce, as "file:line: message".
  std::string only_error(const std::string& text) {
    EXPECT_FALSE(load(text).has_value());
    EXPECT_EQ(errors_.errors().size(), 1u) << errors_.to_string();
    return errors_.errors().empty() ? std::string() : errors_.errors().front().to_string();
  }
  std::string at(int line) const { return path_ + ":" + std::to_string(line) + ": "; }

  static constexpr const char* kHead =
      "[[measure]]\n"                // 1
      "id = \"m1\"\n"                // 2
      "title = \"Title\"\n"          // 3
      "basis = \"31 CFR 560\"\n"     // 4
      "effective = 2024-01-01\n"     // 5
      "severity = \"critical\"\n";   // 6

  PolicyTestDir dir_;
  std::string path_ = dir_.path() + "/policy.toml";
  ConfigErrors errors_;
};

TEST_F(PolicyLoaderTest, ReadsEveryKey) {
  auto policy = load(std::string(kHead) +
                     "expires = 2025-06-30T12:00:00Z\n"
                     "countries = [\"IR\", \"CU\", \"IR\"]\n"
                     "match_registered_country = true\n"
                     "subdivisions = [\"UA-43\"]\n"
                     "accounts = [\"acct-1\"]\n"
                     "networks = [\"192.0.2.0/24\", \"2001:db8::/32\", \"198.51.100.7\"]\n"
                     "asns = [64500, 4200000000]\n"
                     "anonymizers = [\"tor_exit_node\", \"public_proxy\"]\n");
  ASSERT_TRUE(policy) << errors_.to_string();
  ASSERT_EQ(policy->measures.size(), 1u);
  const SpecialMeasure& m = policy->measures[0];
  EXPECT_EQ(m.id, "m1");
  EXPECT_EQ(m.title, "Title");
  EXPECT_EQ(m.basis, "31 CFR 560");
  EXPECT_EQ(m.effective_ms, 1704067200000);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(m.effective_text, "2024-01-01");
  EXPECT_EQ(m.expires_ms, 1751284800000);  // 2025-06-30T12:00:00Z
  EXPECT_EQ(m.severity, Severity::kCritical);
  EXPECT_EQ(m.countries, (std::vector<std::string>{"IR", "CU"}));  // repeats dropped
  EXPECT_TRUE(m.match_registered_country);
  EXPECT_EQ(m.subdivisions, std::vector<std::string>{"UA-43"});
  EXPECT_EQ(m.accounts, std::vector<std::string>{"acct-1"});
  ASSERT_EQ(m.networks.size(), 3u);
  EXPECT_EQ(m.networks[1], *Cidr::parse("2001:db8::/32"));
  EXPECT_EQ(m.networks[2].prefix_length, 32);
  EXPECT_EQ(m.asns, (std::vector<std::uint32_t>{64500, 4200000000u}));
  EXPECT_EQ(m.anonymizer_flags, kTorExitNode | kPublicProxy);
  EXPECT_EQ(policy->source, path_);
}

TEST_F(PolicyLoaderTest, DateTimeOffsetIsHonoured) {
  auto policy = load(
      "[[measure]]\nid = \"a\"\ntitle = \"t\"\nbasis = \"b\"\nseverity = \"info\"\ncountries = [\"SY\"]\n"
      "effective = 2024-01-01T05:00:00+05:00\n");
  ASSERT_TRUE(policy) << errors_.to_string();
  EXPECT_EQ(policy->measures[0].effective_ms, 1704067200000);
  EXPECT_FALSE(policy->measures[0].expires_ms);
}

TEST_F(PolicyLoaderTest, EmptyFileIsAPolicyWithoutMeasures) {
  auto policy = load("# nothing yet\n");
  ASSERT_TRUE(policy) << errors_.to_string();
  EXPECT_TRUE(policy->measures.empty());
}

TEST_F(PolicyLoaderTest, UnknownKeyInMeasure) {
  EXPECT_EQ(only_error(std::string(kHead) + "countries = [\"IR\"]\ncountry = [\"CU\"]\n"),
            at(8) + "unknown key 'country' in measure 'm1'");
}

TEST_F(PolicyLoaderTest, UnknownTopLevelKey) {
  EXPECT_THAT(only_error("version = 1\n" + std::string(kHead) + "countries = [\"IR\"]\n"),
              HasSubstr(at(1) + "unknown key 'version'"));
}

TEST_F(PolicyLoaderTest, UnknownCountryCode) {
  EXPECT_EQ(only_error(std::string(kHead) + "countries = [\n  \"IR\",\n  \"XX\",\n]\n"),
            at(9) + "unknown country code 'XX' (not an ISO 3166-1 alpha-2 code)");
}

TEST_F(PolicyLoaderTest, LowerCaseCountryCodeIsUnknown) {
  EXPECT_THAT(only_error(std::string(kHead) + "countries = [\"ir\"]\n"), HasSubstr(at(7) + "unknown country code 'ir'"));
}

TEST_F(PolicyLoaderTest, UnknownSubdivisionCode) {
  EXPECT_EQ(only_error(std::string(kHead) + "subdivisions = [\"UA-34\"]\n"),
            at(7) + "unknown subdivision code 'UA-34' (not an ISO 3166-2 code such as UA-43)");
}

TEST_F(PolicyLoaderTest, BadCidr) {
  EXPECT_EQ(only_error(std::string(kHead) + "networks = [\"192.0.2.0/33\"]\n"),
            at(7) + "'192.0.2.0/33' is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32");
}

TEST_F(PolicyLoaderTest, CidrWithHostBits) {
  EXPECT_EQ(only_error(std::string(kHead) + "networks = [\"2001:db8::1/32\"]\n"),
            at(7) + "'2001:db8::1/32' has host bits set; the network is 2001:db8::/32");
}

TEST_F(PolicyLoaderTest, BadAsn) {
  EXPECT_THAT(only_error(std::string(kHead) + "asns = [0]\n"), HasSubstr(at(7) + "'asns' entry 0 is not an AS number"));
  EXPECT_THAT(only_error(std::string(kHead) + "asns = [\"AS64500\"]\n"),
              HasSubstr(at(7) + "'asns' must contain only integers"));
}

TEST_F(PolicyLoaderTest, UnknownAnonymizer) {
  EXPECT_THAT(only_error(std::string(kHead) + "anonymizers = [\"tor\"]\n"),
              HasSubstr(at(7) + "unknown anonymizer 'tor'"));
}

TEST_F(PolicyLoaderTest, DuplicateId) {
  const std::string text = std::string(kHead) + "countries = [\"IR\"]\n" + kHead + "countries = [\"CU\"]\n";
  EXPECT_EQ(only_error(text), at(9) + "duplicate measure id 'm1' (first at line 2)");
}

TEST_F(PolicyLoaderTest, ExpiresNotAfterEffective) {
  EXPECT_EQ(only_error(std::string(kHead) + "countries = [\"IR\"]\nexpires = 2024-01-01\n"),
            at(8) + "measure 'm1': 'expires' (2024-01-01) must be after 'effective' (2024-01-01)");
}

TEST_F(PolicyLoaderTest, DateAsStringOrLocalDateTimeIsRejected) {
  const std::string base = "[[measure]]\nid = \"a\"\ntitle = \"t\"\nbasis = \"b\"\nseverity = \"info\"\n"
                           "countries = [\"SY\"]\n";
  EXPECT_THAT(only_error(base + "effective = \"2024-01-01\"\n"),
              HasSubstr(at(7) + "'effective' must be a TOML date such as 2024-01-01 (unquoted)"));
  EXPECT_THAT(only_error(base + "effective = 2024-01-01T00:00:00\n"), HasSubstr(at(7) + "'effective' must be"));
}

TEST_F(PolicyLoaderTest, MissingEffective) {
  EXPECT_EQ(only_error("[[measure]]\nid = \"a\"\ntitle = \"t\"\nbasis = \"b\"\nseverity = \"info\"\n"
                       "countries = [\"SY\"]\n"),
            at(1) + "measure 'a' is missing 'effective' (the date it is in force from)");
}

TEST_F(PolicyLoaderTest, BadSeverity) {
  EXPECT_EQ(only_error("[[measure]]\nid = \"a\"\ntitle = \"t\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                       "severity = \"urgent\"\ncountries = [\"SY\"]\n"),
            at(6) + "measure 'a': 'severity' must be one of critical, high, review, info; got 'urgent'");
}

TEST_F(PolicyLoaderTest, MissingAndEmptyRequiredText) {
  EXPECT_EQ(only_error("[[measure]]\nid = \"a\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                       "severity = \"info\"\ncountries = [\"SY\"]\n"),
            at(1) + "measure 'a' is missing 'title'");
  EXPECT_EQ(only_error("[[measure]]\nid = \"a\"\ntitle = \"\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                       "severity = \"info\"\ncountries = [\"SY\"]\n"),
            at(3) + "measure 'a': 'title' is empty");
}

TEST_F(PolicyLoaderTest, BadId) {
  EXPECT_THAT(only_error("[[measure]]\nid = \"has space\"\ntitle = \"t\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                         "severity = \"info\"\ncountries = [\"SY\"]\n"),
              HasSubstr(at(2) + "measure id 'has space' may only use"));
}

TEST_F(PolicyLoaderTest, MeasureThatMatchesNothing) {
  EXPECT_EQ(only_error(std::string(kHead) + "countries = []\n"),
            at(1) + "measure 'm1' matches nothing: give at least one of countries, subdivisions, accounts, networks, "
                    "asns, anonymizers");
}

TEST_F(PolicyLoaderTest, RegisteredCountryWithoutCountries) {
  EXPECT_EQ(only_error(std::string(kHead) + "asns = [64500]\nmatch_registered_country = true\n"),
            at(8) + "'match_registered_country' needs 'countries' to match");
}

TEST_F(PolicyLoaderTest, MeasureMustBeTables) {
  EXPECT_THAT(only_error("measure = 3\n"), HasSubstr(at(1) + "'measure' must be [[measure]] tables"));
}

TEST_F(PolicyLoaderTest, SyntaxErrorHasItsLine) {
  EXPECT_THAT(only_error(std::string(kHead) + "countries = [\"IR\"\n"), HasSubstr(path_ + ":"));
  EXPECT_GE(errors_.errors().front().line, 7u);
}

TEST_F(PolicyLoaderTest, ReportsEveryErrorOfEveryMeasure) {
  const std::string text = std::string(kHead) + "countries = [\"XX\"]\nnetworks = [\"nope\"]\n" +
                           "[[measure]]\nid = \"m2\"\ntitle = \"t\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                           "severity = \"bad\"\nsubdivisions = [\"ZZ-1\"]\n";
  EXPECT_FALSE(load(text));
  ASSERT_EQ(errors_.errors().size(), 4u) << errors_.to_string();
  EXPECT_EQ(errors_.errors()[0].line, 7u);
  EXPECT_EQ(errors_.errors()[1].line, 8u);
  EXPECT_EQ(errors_.errors()[2].line, 14u);
  EXPECT_EQ(errors_.errors()[3].line, 15u);
}

TEST_F(PolicyLoaderTest, MissingIsoCodesDataIsAClearError) {
  path_ = dir_.write("policy.toml", std::string(kHead) + "countries = [\"IR\"]\n");
  ConfigErrors errors(path_);
  PolicyLoadOptions options;
  options.iso_codes_dir = dir_.iso_dir() + "/absent";
  EXPECT_FALSE(load_policy_file(path_, errors, options));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_THAT(errors.errors()[0].message, HasSubstr("iso_3166-1.json (Debian package iso-codes)"));
}

TEST_F(PolicyLoaderTest, CheckPolicyFilePrintsOkOrErrors) {
  PolicyLoadOptions options;
  options.iso_codes_dir = dir_.iso_dir();
  const std::string good = dir_.write("good.toml", std::string(kHead) + "countries = [\"IR\"]\n");
  std::ostringstream out, err;
  EXPECT_EQ(check_policy_file(good, out, err, options), 0);
  EXPECT_EQ(out.str(), good + ": ok, 1 measure\n");
  EXPECT_EQ(err.str(), "");

  const std::string bad = dir_.write("bad.toml", std::string(kHead) + "countries = [\"XX\"]\n");
  std::ostringstream out2, err2;
  EXPECT_EQ(check_policy_file(bad, out2, err2, options), 1);
  EXPECT_EQ(out2.str(), "");
  EXPECT_EQ(err2.str(), bad + ":7: unknown country code 'XX' (not an ISO 3166-1 alpha-2 code)\n");
}

TEST_F(PolicyLoaderTest, AddedOrChangedMeasures) {
  auto before = load(std::string(kHead) + "countries = [\"IR\"]\n");
  auto after = load(std::string(kHead) + "countries = [\"IR\", \"CU\"]\n" +
                    "[[measure]]\nid = \"m2\"\ntitle = \"t\"\nbasis = \"b\"\neffective = 2024-01-01\n"
                    "severity = \"info\"\ncountries = [\"SY\"]\n");
  ASSERT_TRUE(before && after);
  EXPECT_EQ(added_or_changed_measures(*before, *after), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(added_or_changed_measures(*after, *after).empty());
  EXPECT_EQ(added_or_changed_measures(*after, *before), std::vector<std::string>{"m1"});  // m1 changed back
}

}  // namespace
}  // namespace ipattrib::collector
