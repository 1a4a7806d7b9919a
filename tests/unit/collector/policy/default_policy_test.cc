// config/special-measures.toml, the default policy: it validates against
// the real ISO 3166 data and gives the severities the file promises.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "collector/policy/policy_evaluator.h"
#include "collector/policy/policy_loader.h"

namespace ipattrib::collector {
namespace {

const std::string kPolicyPath = std::string(IPATTRIB_SOURCE_DIR) + "/config/special-measures.toml";
constexpr std::int64_t kJuly2025 = 1751328000000;  // 2025-07-01T00:00:00Z

class DefaultPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(kDefaultIsoCodesDir) + "/iso_3166-2.json")) {
      GTEST_SKIP() << "skipped: Debian's iso-codes is not installed (scripts/setup.sh installs it)";
    }
    ConfigErrors errors(kPolicyPath);
    std::optional<SpecialMeasuresPolicy> policy = load_policy_file(kPolicyPath, errors);
    ASSERT_TRUE(policy) << errors.to_string();
    evaluator_.emplace(std::move(*policy));
  }
  // (measure id, severity) of every hit of one access at `time_ms`.
  std::vector<std::pair<std::string, Severity>> hits(const std::string& country, const std::string& subdivision = "",
                                                     const std::string& registered = "",
                                                     std::int64_t time_ms = kJuly2025) {
    AttributionRecord r;
    r.account = "acct";
    r.client_ip = *IpAddress::parse("192.0.2.1");
    r.geo.country = country;
    r.geo.subdivision = subdivision;
    r.geo.registered_country = registered;
    r.access_times_ms = {time_ms};
    std::vector<AlertHit> found;
    evaluator_->evaluate(r, found);
    std::vector<std::pair<std::string, Severity>> out;
    for (const AlertHit& h : found) out.emplace_back(h.measure_id, h.severity);
    return out;
  }
  using Hits = std::vector<std::pair<std::string, Severity>>;
  std::optional<PolicyEvaluator> evaluator_;
};

TEST_F(DefaultPolicyTest, ChecksOk) {
  std::ostringstream out, err;
  EXPECT_EQ(check_policy_file(kPolicyPath, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), kPolicyPath + ": ok, 8 measures\n");
}

TEST_F(DefaultPolicyTest, SaysItIsAnExampleNotLegalAdvice) {
  std::ifstream in(kPolicyPath);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().substr(0, 600).find("AN EXAMPLE, NOT LEGAL ADVICE"), std::string::npos);
}

TEST_F(DefaultPolicyTest, ComprehensivelySanctionedJurisdictionsAreCritical) {
  EXPECT_EQ(hits("IR"), (Hits{{"us-comprehensive-iran", Severity::kCritical}}));
  EXPECT_EQ(hits("CU"), (Hits{{"us-comprehensive-cuba", Severity::kCritical}}));
  EXPECT_EQ(hits("KP"), (Hits{{"us-comprehensive-north-korea", Severity::kCritical}}));
  EXPECT_EQ(hits("UA", "UA-43"), (Hits{{"us-comprehensive-crimea", Severity::kCritical}}));
  EXPECT_EQ(hits("UA", "UA-40"), (Hits{{"us-comprehensive-crimea", Severity::kCritical}}));
  // An Iranian-registered block seen elsewhere.
  EXPECT_EQ(hits("DE", "", "IR"), (Hits{{"us-comprehensive-iran", Severity::kCritical}}));
}

TEST_F(DefaultPolicyTest, DnrLnrOblastsAreForReview) {
  EXPECT_EQ(hits("UA", "UA-14"), (Hits{{"us-covered-regions-dnr-lnr", Severity::kReview}}));
  EXPECT_EQ(hits("UA", "UA-09"), (Hits{{"us-covered-regions-dnr-lnr", Severity::kReview}}));
}

TEST_F(DefaultPolicyTest, ForeignAdversariesAreHigh) {
  EXPECT_EQ(hits("RU"), (Hits{{"foreign-adversary-russia", Severity::kHigh}}));
  for (const char* c : {"CN", "HK", "MO"}) EXPECT_EQ(hits(c), (Hits{{"foreign-adversary-china", Severity::kHigh}})) << c;
  // Registered country is not matched at this level.
  EXPECT_TRUE(hits("SG", "", "CN").empty());
  // The 791.4 listing of the Maduro regime is not a country match.
  EXPECT_TRUE(hits("VE").empty());
}

TEST_F(DefaultPolicyTest, SyriaIsAnInfoWatchItemFromJuly2025) {
  EXPECT_EQ(hits("SY"), (Hits{{"watch-syria", Severity::kInfo}}));
  EXPECT_TRUE(hits("SY", "", "", kJuly2025 - 1).empty());
}

TEST_F(DefaultPolicyTest, ElsewhereMatchesNothing) {
  EXPECT_TRUE(hits("UA").empty());  // Ukraine without a listed subdivision
  EXPECT_TRUE(hits("UA", "UA-30").empty());
  EXPECT_TRUE(hits("US", "US-CA").empty());
  EXPECT_TRUE(hits("").empty());
}

}  // namespace
}  // namespace ipattrib::collector
