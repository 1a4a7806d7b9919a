#include "ipattrib/listen_address.h"

#include <gtest/gtest.h>

namespace ipattrib {
namespace {

TEST(ListenAddressTest, SplitsHostAndPort) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(split_listen_address("0.0.0.0:8470", host, port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8470);
  ASSERT_TRUE(split_listen_address("[::]:1", host, port));
  EXPECT_EQ(host, "::");
  EXPECT_EQ(port, 1);
  ASSERT_TRUE(split_listen_address("[::1]:9464", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9464);
  ASSERT_TRUE(split_listen_address("localhost:65535", host, port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 65535);
}

TEST(ListenAddressTest, RejectsAnythingElse) {
  std::string host = "unchanged";
  int port = 7;
  for (const char* bad : {"", ":80", "host:", "host:0", "host:65536", "::1:80", "[::1]x:80", "host:8x", "[]:80",
                          "9464", "host:-1", "host: 80"}) {
    EXPECT_FALSE(split_listen_address(bad, host, port)) << bad;
  }
  EXPECT_EQ(host, "unchanged");
  EXPECT_EQ(port, 7);
}

}  // namespace
}  // namespace ipattrib
