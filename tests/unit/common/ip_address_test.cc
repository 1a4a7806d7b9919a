#include "ipattrib/ip_address.h"

#include <gtest/gtest.h>

namespace ipattrib {
namespace {

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

}  // namespace
}  // namespace ipattrib
