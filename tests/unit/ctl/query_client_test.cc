// How ipattribctl encodes paths and queries, and its errors before any request.
#include "ctl/query_client.h"

#include <gtest/gtest.h>

namespace ipattrib::ctl {
namespace {

TEST(PercentEncodeTest, LeavesOnlyUnreservedBytes) {
  EXPECT_EQ(percent_encode("acme-1.x_~"), "acme-1.x_~");
  EXPECT_EQ(percent_encode("a/b c?&=#%+"), "a%2Fb%20c%3F%26%3D%23%25%2B");
  EXPECT_EQ(percent_encode(std::string("n\0\xff", 3)), "n%00%FF");
  EXPECT_EQ(percent_encode("10.0.0.0/8"), "10.0.0.0%2F8");
}

TEST(PathWithQueryTest, SkipsEmptyValues) {
  EXPECT_EQ(path_with_query("/p", {}), "/p");
  EXPECT_EQ(path_with_query("/p", {{"since", ""}, {"until", "2024-01-01T00:00:00+01:00"}, {"class", "admin"}}),
            "/p?until=2024-01-01T00%3A00%3A00%2B01%3A00&class=admin");
}

TEST(QueryClientTest, RejectsUnusableUrls) {
  for (const char* url : {"ftp://host", "127.0.0.1:8470", "http://host/prefix"}) {
    QueryClient client({url, "t", ""});
    Reply reply = client.get("/healthz");
    EXPECT_EQ(reply.code, kExitError) << url;
    EXPECT_FALSE(reply.message.empty());
  }
}

}  // namespace
}  // namespace ipattrib::ctl
