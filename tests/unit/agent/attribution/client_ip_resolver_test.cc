#include "agent/attribution/client_ip_resolver.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/unit/agent/attribution/request_fixture.h"

namespace ipattrib::agent {
namespace {

using testing::RequestFixture;

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

CidrSet test_trusted_proxies() {
  CidrSet set;
  set.add(*Cidr::parse("10.0.0.0/8"));
  set.add(*Cidr::parse("fd00::/8"));
  return set;
}

class ClientIpResolverTest : public ::testing::Test {
 protected:
  ClientAddress resolve(RequestFixture& request, std::string_view peer = "10.0.0.1",
                        IpSource peer_source = IpSource::kSocket) {
    return resolver_.resolve(ip(peer), peer_source, request.head());
  }

  std::uint64_t counter(const std::string& name) {
    CounterMap counters;
    resolver_.report(counters);
    return counters.values.at(name);
  }

  CidrSet trusted_ = test_trusted_proxies();
  AttributionConfig defaults_;
  ClientIpResolver resolver_{trusted_, defaults_.client_ip_headers};
};

TEST_F(ClientIpResolverTest, NoHeadersMeansThePeer) {
  RequestFixture request;
  const ClientAddress a = resolve(request, "198.51.100.7");
  EXPECT_EQ(a.ip, ip("198.51.100.7"));
  EXPECT_EQ(a.source, IpSource::kSocket);
}

TEST_F(ClientIpResolverTest, UntrustedPeerHeadersAreIgnored) {
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6").header("Forwarded", "for=6.6.6.7").header("X-Real-IP", "6.6.6.8");
  const ClientAddress a = resolve(request, "198.51.100.7");
  EXPECT_EQ(a.ip, ip("198.51.100.7"));
  EXPECT_EQ(a.source, IpSource::kSocket);
  EXPECT_EQ(counter("attribution.forwarding_header_from_untrusted_peer"), 1u);
}

TEST_F(ClientIpResolverTest, TrustedPeerXffGivesTheClient) {
  RequestFixture request;
  request.header("X-Forwarded-For", "203.0.113.9");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("203.0.113.9"));
  EXPECT_EQ(a.source, IpSource::kXForwardedFor);
}

TEST_F(ClientIpResolverTest, ClientPrependedXffCannotChooseTheAddress) {
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6, 203.0.113.9");
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.9"));
}

TEST_F(ClientIpResolverTest, ClientPrependedTrustedLookingAddressIsStillNotTheClient) {
  // The client claims to be one of our proxies; the proxy appended the real address.
  RequestFixture request;
  request.header("X-Forwarded-For", "10.9.9.9, 203.0.113.9, 10.0.0.2");
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.9"));
}

TEST_F(ClientIpResolverTest, SkipsTrustedHopsRightToLeft) {
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2");
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.9"));
}

TEST_F(ClientIpResolverTest, RepeatedHeadersAreOneListInOrder) {
  RequestFixture request;
  request
      .header("X-Forwarded-For", "6.6.6.6")  // written by the client
      .header("Host", "api.example")
      .header("x-forwarded-for", "203.0.113.9, 10.1.1.1");  // appended by proxies
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.9"));

  RequestFixture reversed;
  reversed.header("X-Forwarded-For", "203.0.113.9, 10.1.1.1").header("X-Forwarded-For", "6.6.6.6");
  EXPECT_EQ(resolve(reversed).ip, ip("6.6.6.6"));  // the last occurrence is the rightmost
}

TEST_F(ClientIpResolverTest, AllTrustedChainGivesTheLeftmost) {
  RequestFixture request;
  request.header("X-Forwarded-For", "10.3.3.3, 10.2.2.2, 10.1.1.1");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("10.3.3.3"));
  EXPECT_EQ(a.source, IpSource::kXForwardedFor);
}

TEST_F(ClientIpResolverTest, InvalidEntryStopsAtTheLastVerifiedHop) {
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6, unknown, 10.1.1.1");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("10.1.1.1"));  // never 6.6.6.6: left of the gap is client-written
  EXPECT_EQ(counter("attribution.bad_forwarding_header"), 1u);

  RequestFixture rightmost_bad;
  rightmost_bad.header("X-Forwarded-For", "6.6.6.6, 10.000.000.03");
  const ClientAddress b = resolve(rightmost_bad, "10.0.0.1");
  EXPECT_EQ(b.ip, ip("10.0.0.1"));
  EXPECT_EQ(b.source, IpSource::kSocket);
  EXPECT_EQ(counter("attribution.bad_forwarding_header"), 2u);
}

TEST_F(ClientIpResolverTest, XffWithPortsAndV6) {
  RequestFixture request;
  request.header("X-Forwarded-For", "[2001:db8::5]:443, 10.1.1.1:8080");
  EXPECT_EQ(resolve(request).ip, ip("2001:db8::5"));

  RequestFixture v6_peer;
  v6_peer.header("X-Forwarded-For", "198.51.100.3:5678, fd00::1");
  EXPECT_EQ(resolve(v6_peer, "fd00::9").ip, ip("198.51.100.3"));
}

TEST_F(ClientIpResolverTest, ForwardedHeaderWithQuotedV6AndPorts) {
  RequestFixture request;
  request.header("Forwarded", R"(for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.1.1;by=10.0.0.1)");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("2001:db8:cafe::17"));
  EXPECT_EQ(a.source, IpSource::kForwarded);
}

TEST_F(ClientIpResolverTest, ForwardedObfuscatedHopStopsTheWalk) {
  RequestFixture request;
  request.header("Forwarded", "for=6.6.6.6, for=_hidden, for=10.1.1.1");
  EXPECT_EQ(resolve(request).ip, ip("10.1.1.1"));
}

TEST_F(ClientIpResolverTest, ClientOpenedQuoteDoesNotHideTheProxyEntry) {
  RequestFixture request;
  request.header("Forwarded", R"(for="6.6.6.6, for=203.0.113.9)");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("10.0.0.1"));
  EXPECT_EQ(a.source, IpSource::kSocket);
}

TEST_F(ClientIpResolverTest, FirstConfiguredHeaderPresentWins) {
  RequestFixture request;
  request.header("X-Forwarded-For", "203.0.113.1").header("Forwarded", "for=203.0.113.2");
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.2"));  // default order: forwarded first

  ClientIpResolver xff_first(trusted_, {ClientIpHeader::kXForwardedFor, ClientIpHeader::kForwarded});
  EXPECT_EQ(xff_first.resolve(ip("10.0.0.1"), IpSource::kSocket, request.head()).ip, ip("203.0.113.1"));

  ClientIpResolver real_ip_only(trusted_, {ClientIpHeader::kXRealIp});
  EXPECT_EQ(real_ip_only.resolve(ip("10.0.0.1"), IpSource::kSocket, request.head()).ip, ip("10.0.0.1"));
}

TEST_F(ClientIpResolverTest, EmptyHeaderFallsThroughToTheNext) {
  RequestFixture request;
  request.header("Forwarded", "").header("X-Forwarded-For", "203.0.113.1");
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.1"));
}

TEST_F(ClientIpResolverTest, XRealIp) {
  RequestFixture request;
  request.header("X-Real-IP", "203.0.113.77");
  const ClientAddress a = resolve(request);
  EXPECT_EQ(a.ip, ip("203.0.113.77"));
  EXPECT_EQ(a.source, IpSource::kXRealIp);
}

TEST_F(ClientIpResolverTest, ProxyProtocolSourceIsThePeer) {
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6");
  const ClientAddress untrusted = resolve(request, "198.51.100.20", IpSource::kProxyProtocol);
  EXPECT_EQ(untrusted.ip, ip("198.51.100.20"));
  EXPECT_EQ(untrusted.source, IpSource::kProxyProtocol);

  const ClientAddress trusted = resolve(request, "10.5.5.5", IpSource::kProxyProtocol);
  EXPECT_EQ(trusted.ip, ip("6.6.6.6"));
  EXPECT_EQ(trusted.source, IpSource::kXForwardedFor);
}

TEST_F(ClientIpResolverTest, V4MappedPeerIsMatchedAgainstV4Cidrs) {
  RequestFixture request;
  request.header("X-Forwarded-For", "203.0.113.9");
  EXPECT_EQ(resolve(request, "::ffff:10.0.0.1").ip, ip("203.0.113.9"));
}

TEST_F(ClientIpResolverTest, NoTrustedProxiesMeansHeadersNeverCount) {
  ClientIpResolver none(CidrSet{}, defaults_.client_ip_headers);
  RequestFixture request;
  request.header("X-Forwarded-For", "203.0.113.9");
  EXPECT_EQ(none.resolve(ip("10.0.0.1"), IpSource::kSocket, request.head()).ip, ip("10.0.0.1"));
}

TEST_F(ClientIpResolverTest, LongHostileChainIsBounded) {
  std::string chain;
  for (int i = 0; i < 5000; ++i) chain += "10.1.1.1, ";
  chain += "203.0.113.9";
  RequestFixture request;
  request.header("X-Forwarded-For", chain);
  EXPECT_EQ(resolve(request).ip, ip("203.0.113.9"));
}

}  // namespace
}  // namespace ipattrib::agent
