#include "agent/attribution/forwarding_entry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipattrib::agent {
namespace {

std::string text(const std::optional<IpAddress>& a) { return a ? a->to_string() : "none"; }

TEST(ForwardedForEntryTest, AcceptsAddressesWithAndWithoutPorts) {
  EXPECT_EQ(text(parse_forwarded_for_entry("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(text(parse_forwarded_for_entry("192.0.2.1:5678")), "192.0.2.1");
  EXPECT_EQ(text(parse_forwarded_for_entry("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(text(parse_forwarded_for_entry("[2001:db8::1]")), "2001:db8::1");
  EXPECT_EQ(text(parse_forwarded_for_entry("[2001:db8::1]:443")), "2001:db8::1");
}

TEST(ForwardedForEntryTest, UnmapsV4MappedV6) {
  const auto a = parse_forwarded_for_entry("::ffff:10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "10.0.0.1");
}

TEST(ForwardedForEntryTest, RejectsWhatIsNotPlainlyAnAddress) {
  for (const char* bad : {"", "unknown", "_hidden", "10.000.000.03", "010.0.0.1", "1.2.3", "1.2.3.4:", "1.2.3.4:99999",
                          "1.2.3.4:http", "[1.2.3.4]", "[2001:db8::1", "[2001:db8::1]x",
                          "[2001:db8::1]:", "fe80::1%eth0", "1.2.3.4 5.6.7.8", "example.com", "1:2", "256.1.1.1"}) {
    EXPECT_FALSE(parse_forwarded_for_entry(bad)) << bad;
  }
}

TEST(ForwardedElementTest, ReadsForAmongOtherParameters) {
  EXPECT_EQ(text(parse_forwarded_element("for=192.0.2.60;proto=http;by=203.0.113.43")), "192.0.2.60");
  EXPECT_EQ(text(parse_forwarded_element("proto=https; FOR=192.0.2.61")), "192.0.2.61");
  EXPECT_EQ(text(parse_forwarded_element(R"(for="[2001:db8:cafe::17]:4711")")), "2001:db8:cafe::17");
  EXPECT_EQ(text(parse_forwarded_element(R"(for="192.0.2.43:47011")")), "192.0.2.43");
  EXPECT_EQ(text(parse_forwarded_element(R"(for="[2001:db8::1]:_port1")")), "2001:db8::1");
  EXPECT_EQ(text(parse_forwarded_element("for=[2001:db8::2]")), "2001:db8::2");
  EXPECT_EQ(text(parse_forwarded_element("for=192.0.2.7:_x")), "192.0.2.7");
}

TEST(ForwardedElementTest, RejectsObfuscatedMissingDuplicateAndMalformed) {
  for (const char* bad :
       {"for=unknown", "for=_hidden", R"(for="_gazonk")", "proto=http;by=1.2.3.4", "", "for=1.2.3.4;for=5.6.7.8", "for",
        "for=", R"(for="1.2.3.4)", R"(for="1.2\.3.4")", "for=10.000.000.03", "junk;for=1.2.3.4"}) {
    EXPECT_FALSE(parse_forwarded_element(bad)) << bad;
  }
}

std::vector<std::string> entries(std::string_view value) {
  std::vector<std::string> out;
  for_each_list_entry(value, [&](std::string_view e) { out.emplace_back(e); });
  return out;
}

TEST(ListEntryTest, SplitsTrimsSkipsEmptyAndRespectsQuotes) {
  EXPECT_EQ(entries(" 1.1.1.1 ,,2.2.2.2,\t3.3.3.3 "), (std::vector<std::string>{"1.1.1.1", "2.2.2.2", "3.3.3.3"}));
  EXPECT_EQ(entries(R"(for="a,b";proto=http, for=1.2.3.4)"),
            (std::vector<std::string>{R"(for="a,b";proto=http)", "for=1.2.3.4"}));
  EXPECT_TRUE(entries("").empty());
  EXPECT_TRUE(entries(" , ").empty());
  // Outside quotes a backslash is an ordinary byte, with or without a quote elsewhere in the value.
  EXPECT_EQ(entries(R"(a\,b,)"), (std::vector<std::string>{R"(a\)", "b"}));
  EXPECT_EQ(entries(R"(a\,b,"c")"), (std::vector<std::string>{R"(a\)", "b", R"("c")"}));
}

TEST(ListEntryTest, UnterminatedQuoteSwallowsTheRestIntoOneEntry) {
  // A client opening a quote must not make the proxy's appended entry disappear.
  EXPECT_EQ(entries(R"(for="x, for=5.5.5.5)"), (std::vector<std::string>{R"(for="x, for=5.5.5.5)"}));
  EXPECT_EQ(entries(R"(for=1.1.1.1, for="x\)"), (std::vector<std::string>{"for=1.1.1.1", R"(for="x\)"}));
}

}  // namespace
}  // namespace ipattrib::agent
