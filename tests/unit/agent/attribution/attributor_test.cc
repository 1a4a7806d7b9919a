#include "agent/attribution/attributor.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/agent/attribution/request_fixture.h"

namespace ipattrib::agent {
namespace {

using testing::make_jwt;
using testing::RequestFixture;

// Copies what it receives: the event's views die with the callback.
struct RecordedEvent {
  AccessEvent event;
  std::string method, host, target, account, principal;
};

class RecordingSink : public AccessEventSink {
 public:
  void on_access(const AccessEvent& e) override {
    events.push_back({e, std::string(e.method), std::string(e.host), std::string(e.target), std::string(e.account),
                      std::string(e.principal)});
  }
  void upcoming_client(const IpAddress& client_ip) override { upcoming.push_back(client_ip); }
  std::vector<RecordedEvent> events;
  std::vector<IpAddress> upcoming;  // upcoming_client hints, in order
};

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::map<std::string, std::uint64_t> values;
};

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

class AttributorTest : public ::testing::Test {
 protected:
  AttributorTest() {
    config_.trusted_proxies.add(*Cidr::parse("10.0.0.0/8"));
    add_header_account_rule(config_, "X-Account-Id");
    EXPECT_TRUE(add_path_account_rule(config_, "/v1/accounts/{account}/..."));
    AccountRuleConfig jwt;
    jwt.type = AccountRuleType::kJwt;
    jwt.account_claim = "account";
    jwt.principal_claim = "sub";
    config_.account_rules.push_back(jwt);
    endpoints_.client_ip = ip("10.0.0.1");
    endpoints_.client_port = 40000;
    endpoints_.server_ip = ip("10.9.9.9");
    endpoints_.server_port = 8080;
  }

  const RecordedEvent& deliver(Attributor& attributor, RequestFixture& request,
                               const ProxiedAddresses* proxy = nullptr) {
    RequestContext context;
    context.ts_us = 1234;
    context.endpoints = &endpoints_;
    context.proxy = proxy;
    attributor.on_request(context, request.head());
    EXPECT_FALSE(sink_.events.empty());
    return sink_.events.back();
  }

  AttributionConfig config_;
  FlowEndpoints endpoints_;
  RecordingSink sink_;
};

// The geo stage is told each client as early as it is known: an untrusted
// peer before the head is parsed, a client from a forwarding header once the
// head is resolved; a trusted peer is not announced (the header decides).
TEST_F(AttributorTest, AnnouncesTheClientAsSoonAsItIsKnown) {
  Attributor attributor(config_, sink_);
  RequestContext context;
  context.endpoints = &endpoints_;
  attributor.upcoming_request(context);  // 10.0.0.1: a trusted proxy
  EXPECT_TRUE(sink_.upcoming.empty());
  RequestFixture forwarded("GET", "/");
  forwarded.header("X-Forwarded-For", "203.0.113.9");
  deliver(attributor, forwarded);
  ASSERT_EQ(sink_.upcoming.size(), 1u);
  EXPECT_EQ(sink_.upcoming[0], ip("203.0.113.9"));

  endpoints_.client_ip = ip("::ffff:198.51.100.7");  // untrusted, v4-mapped
  attributor.upcoming_request(context);
  ASSERT_EQ(sink_.upcoming.size(), 2u);
  EXPECT_EQ(sink_.upcoming[1], ip("198.51.100.7"));
  RequestFixture direct("GET", "/");
  const RecordedEvent& e = deliver(attributor, direct);
  EXPECT_EQ(e.event.client_ip, sink_.upcoming[1]);
  EXPECT_EQ(sink_.upcoming.size(), 2u);  // already announced before the head
  attributor.upcoming_request(RequestContext{});  // no endpoints: nothing to announce
  EXPECT_EQ(sink_.upcoming.size(), 2u);
}

TEST_F(AttributorTest, BuildsTheFullEvent) {
  Attributor attributor(config_, sink_);
  RequestFixture request("DELETE", "/v1/accounts/acme/servers/7?force=1");
  request.header("Host", "api.example").header("X-Forwarded-For", "6.6.6.6, 203.0.113.9");
  const RecordedEvent& e = deliver(attributor, request);
  EXPECT_EQ(e.event.ts_us, 1234);
  EXPECT_EQ(e.event.client_ip, ip("203.0.113.9"));
  EXPECT_EQ(e.event.ip_source, IpSource::kXForwardedFor);
  EXPECT_EQ(e.event.peer_ip, ip("10.0.0.1"));
  EXPECT_EQ(e.event.peer_port, 40000);
  EXPECT_EQ(e.event.server_ip, ip("10.9.9.9"));
  EXPECT_EQ(e.event.server_port, 8080);
  EXPECT_EQ(e.method, "DELETE");
  EXPECT_EQ(e.host, "api.example");
  EXPECT_EQ(e.target, "/v1/accounts/acme/servers/7?force=1");
  EXPECT_TRUE(e.event.has_account);
  EXPECT_EQ(e.account, "acme");
  EXPECT_EQ(e.principal, "");
  EXPECT_EQ(e.event.access_class, AccessClass::kAdmin);
}

TEST_F(AttributorTest, NoAccountIsCountedAndStillDelivered) {
  Attributor attributor(config_, sink_);
  RequestFixture request("GET", "/health");
  const RecordedEvent& e = deliver(attributor, request);
  EXPECT_FALSE(e.event.has_account);
  EXPECT_EQ(e.account, "");
  EXPECT_EQ(e.host, "");
  EXPECT_EQ(e.event.access_class, AccessClass::kAccess);
  CounterMap counters;
  attributor.report(counters);
  EXPECT_EQ(counters.values.at("attribution.requests"), 1u);
  EXPECT_EQ(counters.values.at("attribution.no_account"), 1u);
  EXPECT_EQ(counters.values.at("attribution.client_ip_from_socket"), 1u);
}

TEST_F(AttributorTest, SecretsNeverReachTheEvent) {
  Attributor attributor(config_, sink_);
  const std::string token = make_jwt(R"({"account":"acme","sub":"alice"})");
  RequestFixture request("GET", "/x");
  request.header("Authorization", "Bearer " + token).header("Cookie", "session=s3cr3t");
  const RecordedEvent& e = deliver(attributor, request);
  EXPECT_EQ(e.account, "acme");
  EXPECT_EQ(e.principal, "alice");
  for (const std::string* field : {&e.method, &e.host, &e.target, &e.account, &e.principal}) {
    EXPECT_EQ(field->find(token), std::string::npos);
    EXPECT_EQ(field->find("s3cr3t"), std::string::npos);
  }
}

TEST_F(AttributorTest, ProxyProtocolSourceIsUsedAndPeerStaysTheSocket) {
  Attributor attributor(config_, sink_);
  ProxiedAddresses proxy;
  proxy.present = true;
  proxy.source = ip("198.51.100.4");
  proxy.source_port = 5555;
  RequestFixture request;
  request.header("X-Forwarded-For", "6.6.6.6");  // PROXY source is not trusted: ignored
  const RecordedEvent& e = deliver(attributor, request, &proxy);
  EXPECT_EQ(e.event.client_ip, ip("198.51.100.4"));
  EXPECT_EQ(e.event.ip_source, IpSource::kProxyProtocol);
  EXPECT_EQ(e.event.peer_ip, ip("10.0.0.1"));

  ProxiedAddresses local;  // PROXY LOCAL: not present, the socket counts
  const RecordedEvent& l = deliver(attributor, request, &local);
  EXPECT_EQ(l.event.client_ip, ip("6.6.6.6"));
  EXPECT_EQ(l.event.ip_source, IpSource::kXForwardedFor);

  CounterMap counters;
  attributor.report(counters);
  EXPECT_EQ(counters.values.at("attribution.client_ip_from_proxy_protocol"), 1u);
  EXPECT_EQ(counters.values.at("attribution.client_ip_from_x_forwarded_for"), 1u);
}

TEST_F(AttributorTest, ClassRulesApply) {
  config_.class_rules.push_back(AccessClassRule{{"POST"}, "/v1/search", AccessClass::kAccess});
  Attributor attributor(config_, sink_);
  RequestFixture search("POST", "http://api.example/v1/search?q=x");
  EXPECT_EQ(deliver(attributor, search).event.access_class, AccessClass::kAccess);
  RequestFixture create("POST", "/v1/servers");
  EXPECT_EQ(deliver(attributor, create).event.access_class, AccessClass::kAdmin);
  CounterMap counters;
  attributor.report(counters);
  EXPECT_EQ(counters.values.at("attribution.admin"), 1u);
}

TEST_F(AttributorTest, MissingEndpointsAreCountedNotDelivered) {
  Attributor attributor(config_, sink_);
  RequestFixture request;
  attributor.on_request(RequestContext{}, request.head());
  EXPECT_TRUE(sink_.events.empty());
  CounterMap counters;
  attributor.report(counters);
  EXPECT_EQ(counters.values.at("attribution.no_endpoints"), 1u);
  EXPECT_EQ(counters.values.at("attribution.requests"), 0u);
}

TEST_F(AttributorTest, AttributorOutlivesItsConfig) {
  auto config = std::make_unique<AttributionConfig>(config_);
  Attributor attributor(*config, sink_);
  config.reset();
  RequestFixture request("GET", "/v1/accounts/globex");
  request.header("X-Forwarded-For", "203.0.113.5");
  const RecordedEvent& e = deliver(attributor, request);
  EXPECT_EQ(e.account, "globex");
  EXPECT_EQ(e.event.client_ip, ip("203.0.113.5"));
}

}  // namespace
}  // namespace ipattrib::agent
