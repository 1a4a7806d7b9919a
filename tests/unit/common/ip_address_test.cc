#include "ipattrib/ip_address.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "tests/support/ip_address_reference.h"

namespace ipattrib {
namespace {

using test_support::contains_bitwise;
using test_support::parse_with_inet_pton;

TEST(IpAddressTest, ParsesAndFormatsV4) {
  auto a = IpAddress::parse("192.0.2.17");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "192.0.2.17");
  EXPECT_EQ(*a, IpAddress::from_v4(0xC0000211));
}

TEST(IpAddressTest, ParsesAndFormatsV6Canonically) {
  auto a = IpAddress::parse("2001:0db8:0000:0000:0000:0000:0000:0001");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  auto bracketed = IpAddress::parse("[2001:db8::1]");
  ASSERT_TRUE(bracketed);
  EXPECT_EQ(*bracketed, *a);
}

TEST(IpAddressTest, RejectsGarbage) {
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("1.2.3"));
  EXPECT_FALSE(IpAddress::parse("1.2.3.4:80"));
  EXPECT_FALSE(IpAddress::parse("unknown"));
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
  EXPECT_FALSE(IpAddress::parse("fe80::1%eth0"));
}

TEST(IpAddressTest, V4AndMappedV6AreDistinctFamilies) {
  auto v4 = IpAddress::parse("10.0.0.1");
  auto mapped = IpAddress::parse("::ffff:10.0.0.1");
  ASSERT_TRUE(v4 && mapped);
  EXPECT_NE(*v4, *mapped);
  EXPECT_EQ(v4->bytes(), mapped->bytes());
}

TEST(CidrTest, ContainsV4AndV6) {
  auto net = Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*IpAddress::parse("10.1.255.3")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("10.2.0.1")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("::ffff:10.1.0.1")));
  auto net6 = Cidr::parse("2001:db8:abcd::/47");
  ASSERT_TRUE(net6);
  EXPECT_TRUE(net6->contains(*IpAddress::parse("2001:db8:abcd:1::5")));
  EXPECT_FALSE(net6->contains(*IpAddress::parse("2001:db8:abce::5")));
}

TEST(CidrTest, ClearsHostBitsAndDefaultsToHostRoute) {
  auto net = Cidr::parse("192.168.7.9/24");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->to_string(), "192.168.7.0/24");
  auto host = Cidr::parse("192.168.7.9");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix_length, 32);
  EXPECT_FALSE(host->contains(*IpAddress::parse("192.168.7.8")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
}

TEST(CidrTest, RejectsBadPrefixes) {
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/8x"));
  EXPECT_FALSE(Cidr::parse("::/129"));
  EXPECT_FALSE(Cidr::parse("nonsense/8"));
}

TEST(CidrSetTest, MatchesAnyMember) {
  CidrSet set;
  set.add(*Cidr::parse("10.0.0.0/8"));
  set.add(*Cidr::parse("fd00::/8"));
  EXPECT_TRUE(set.contains(*IpAddress::parse("10.9.9.9")));
  EXPECT_TRUE(set.contains(*IpAddress::parse("fd12::1")));
  EXPECT_FALSE(set.contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(set.contains(IpAddress()));
}


// parse() reads dotted IPv4 itself; it must accept exactly what inet_pton
// accepts (on the NUL-terminated text, as it used to be called) and give
// the same bytes. Hand-picked edge cases, then random strings over the
// characters that matter.
TEST(IpAddressTest, ParsesV4ExactlyAsInetPton) {
  const std::string cases[] = {
      "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.0", "0.0.0.00",
      "1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.4a",
      "999.1.1.1", "1.2.3.2555", "1.2.3.25x", "4294967296.1.1.1", "0x1.2.3.4", "1.2.3.4/8", "[1.2.3.4]",
      std::string("1.2.3.4\0junk", 12), std::string("1.2\0.3.4", 8), std::string("\0", 1), "10.30.0.5",
      "192.168.001.1", "1.2.3.255", "1.2.3.256", "00.1.1.1", "1.2.3.4\t",
  };
  for (const std::string& text : cases) {
    EXPECT_EQ(IpAddress::parse(text), parse_with_inet_pton(text)) << "'" << text << "'";
  }
  std::mt19937 rng(7);  // fixed seed: the same strings every run
  constexpr char kAlphabet[] = "0123456789...12x \0";  // digits weighted, dots, junk, NUL
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string text(rng() % 18, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    const auto expected = parse_with_inet_pton(text);
    ASSERT_EQ(IpAddress::parse(text), expected) << "'" << text << "'";
    if (expected) ++accepted;
  }
  EXPECT_GT(accepted, 100);  // the random strings do reach the accepting paths
}

// Cidr::contains compares words; check it against a bit-by-bit reference
// for every prefix length of both families.
TEST(CidrTest, ContainsAgreesWithBitwiseReference) {
  std::mt19937 rng(11);
  auto random_bytes = [&rng](std::uint8_t* out, int n) {
    for (int i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(rng());
  };
  int inside = 0;
  for (int length = 0; length <= 128; ++length) {
    for (int trial = 0; trial < 200; ++trial) {
      std::uint8_t net[16];
      random_bytes(net, 16);
      const bool v4 = length <= 32 && trial % 2 == 0;
      IpAddress base = v4 ? IpAddress::from_v4_bytes(net) : IpAddress::from_v6_bytes(net);
      auto cidr = Cidr::parse(base.to_string() + "/" + std::to_string(length));
      ASSERT_TRUE(cidr);
      // Flip one random bit of the network: inside iff it is a host bit.
      std::uint8_t addr[16];
      std::memcpy(addr, cidr->network.bytes().data(), 16);
      const int flip = v4 ? 96 + static_cast<int>(rng() % 32) : static_cast<int>(rng() % 128);
      addr[flip / 8] ^= static_cast<std::uint8_t>(0x80 >> (flip % 8));
      const IpAddress address = v4 ? IpAddress::from_v4_bytes(addr + 12) : IpAddress::from_v6_bytes(addr);
      const bool expected = contains_bitwise(*cidr, address);
      EXPECT_EQ(cidr->contains(address), expected) << cidr->to_string() << " " << address.to_string();
      EXPECT_TRUE(cidr->contains(cidr->network));
      if (expected) ++inside;
    }
  }
  EXPECT_GT(inside, 1000);
}

}  // namespace
}  // namespace ipattrib
