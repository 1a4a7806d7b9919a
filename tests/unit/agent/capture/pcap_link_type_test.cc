#include "agent/capture/pcap_link_type.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

namespace ipattrib::agent {
namespace {

TEST(PcapLinkTypeTest, KnownLinkTypes) {
  EXPECT_EQ(link_type_from_dlt(DLT_NULL), LinkType::kNull);
  EXPECT_EQ(link_type_from_dlt(DLT_EN10MB), LinkType::kEthernet);
  EXPECT_EQ(link_type_from_dlt(12), LinkType::kRawIp);
  EXPECT_EQ(link_type_from_dlt(14), LinkType::kRawIp);
  EXPECT_EQ(link_type_from_dlt(101), LinkType::kRawIp);
  EXPECT_EQ(link_type_from_dlt(DLT_RAW), LinkType::kRawIp);
  EXPECT_EQ(link_type_from_dlt(DLT_LOOP), LinkType::kLoop);
  EXPECT_EQ(link_type_from_dlt(DLT_LINUX_SLL), LinkType::kLinuxSll);
  EXPECT_EQ(link_type_from_dlt(DLT_LINUX_SLL2), LinkType::kLinuxSll2);
  EXPECT_EQ(link_type_from_dlt(DLT_IPV4), LinkType::kIpv4);
  EXPECT_EQ(link_type_from_dlt(DLT_IPV6), LinkType::kIpv6);
}

TEST(PcapLinkTypeTest, OthersAreUnsupported) {
  EXPECT_FALSE(link_type_from_dlt(DLT_IEEE802_11));
  EXPECT_FALSE(link_type_from_dlt(DLT_PPP));
  EXPECT_FALSE(link_type_from_dlt(-1));
  EXPECT_FALSE(link_type_from_dlt(100000));
}

}  // namespace
}  // namespace ipattrib::agent
