#include "agent/http/request_stream_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/agent/http/recording_request_sink.h"

namespace ipattrib::agent {
namespace {

using Phase = RequestStreamState::Phase;
using ::testing::ElementsAre;

constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kProxyPort = 8443;

FlowEndpoints endpoints(std::uint16_t server_port = kHttpPort) {
  FlowEndpoints e;
  e.client_ip = *IpAddress::parse("198.51.100.7");
  e.server_ip = *IpAddress::parse("10.0.0.1");
  e.client_port = 40000;
  e.server_port = server_port;
  return e;
}

HttpConfig default_config() {
  HttpConfig config;
  config.proxy_protocol_ports = {kProxyPort};
  return config;
}

// A client stream as a sequence of deliveries, with capture gaps between
// some of them.
struct Scenario {
  std::string name;
  std::vector<std::string> deliveries;  // "" marks a gap
  std::uint16_t server_port = kHttpPort;
};

struct Outcome {
  std::vector<std::string> requests;
  Phase phase = Phase::kStart;
  std::map<std::string, std::uint64_t> counters;
  std::size_t kept = 0;
  bool overconsumed = false;
};

Outcome run(const Scenario& scenario, std::size_t piece, const HttpConfig& config = default_config()) {
  RecordingRequestSink sink;
  RequestStreamParser parser(config, sink);
  FlowStreamDriver driver(parser, endpoints(scenario.server_port));
  for (const std::string& delivery : scenario.deliveries) {
    if (delivery.empty()) {
      driver.gap();
    } else {
      driver.deliver(delivery, piece);
    }
  }
  CounterMap counters;
  parser.report(counters);
  return Outcome{sink.summaries(), driver.state().phase, counters.values, driver.kept(), driver.overconsumed()};
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: api.example\r\n" + extra + "\r\n";
}

const std::string kProxyV1 = "PROXY TCP4 203.0.113.9 10.0.0.1 51234 8443\r\n";

std::string proxy_v2_ipv4() {
  const unsigned char raw[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11,
                               0x00, 0x0F, 203,  0,    113,  10,   10,   0,    0,    1,    0xC8, 0x00, 0x20, 0xFB,
                               0x04, 0x00, 0x00};  // + NOOP TLV
  return std::string(reinterpret_cast<const char*>(raw), sizeof(raw));
}

std::vector<Scenario> scenarios() {
  const std::string chunked_body = "5;name=\"v\"\r\nhello\r\n1A\r\nGET /fake HTTP/1.1\r\n\r\nxxxx\r\n0\r\nX-Sum: 1\r\n\r\n";
  return {
      {"keep_alive", {get("/a"), get("/b")}},
      {"pipelined", {get("/1") + get("/2") + "HEAD /3 HTTP/1.0\n\n"}},
      {"content_length_body_hides_fake_request",
       {"POST /up HTTP/1.1\r\nContent-Length: 22\r\n\r\nGET /fake HTTP/1.1\r\n\r\n" + get("/real")}},
      {"chunked_with_extension_and_trailer", {"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body +
                                              get("/after")}},
      {"chunked_lf_only", {"POST /c HTTP/1.1\nTransfer-Encoding: gzip, chunked\n\n3\nabc\n0\n\n" + get("/after")}},
      {"connect_tunnel", {"CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n" + get("/inside"), get("/more")}},
      {"upgrade_tunnel", {get("/ws", "Upgrade: websocket\r\nConnection: Upgrade\r\n") + "\x81\x85GET / HTTP/1.1\r\n\r\n"}},
      {"upgrade_declined", {get("/ws", "Upgrade: h2c\r\nConnection: Upgrade\r\n") + get("/plain")}},
      {"upgrade_to_h2c", {get("/u", "Upgrade: h2c\r\n") + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + get("/h2")}},
      {"empty_lines_between", {"POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n" + get("/next")}},
      {"gap_in_body_then_resync",
       {"POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial", "", "tail junk GET /no HTTP/1.1\r\n" + get("/b")}},
      {"gap_in_head_then_resync", {"GET /lost HTTP/1.1\r\nHo", "", "st: x\r\n\r\n" + get("/found")}},
      {"gap_at_request_start", {get("/a"), "", get("/b") + get("/c")}},
      {"not_http_ssh", {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" + get("/x")}},
      {"not_http_tls", {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + get("/x")}},
      {"not_http_response", {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}},
      {"not_http_h2_preface", {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + get("/x")}},
      {"bad_transfer_coding_resyncs", {"POST /t HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc\r\n" + get("/next")}},
      {"conflicting_lengths_resync",
       {"POST /t HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\r\n" + get("/next")}},
      {"bad_chunk_size_resyncs", {"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + get("/next")}},
      {"bad_header_resyncs", {"GET /bad HTTP/1.1\r\nNo colon here\r\n\r\n" + get("/next")}},
      {"garbage_after_request_resyncs", {get("/first") + "\x01\x02garbage\r\n" + get("/second")}},
      {"head_too_large_resyncs", {"GET /big HTTP/1.1\r\n" + std::string(300, 'a') + ": b\r\n\r\n" + get("/small")}},
      {"proxy_v1_listener", {kProxyV1 + get("/p1") + get("/p2")}, kProxyPort},
      {"proxy_v2_listener", {proxy_v2_ipv4() + get("/p")}, kProxyPort},
      {"proxy_local_listener", {"PROXY UNKNOWN\r\n" + get("/health")}, kProxyPort},
      {"proxy_listener_without_header", {get("/direct")}, kProxyPort},
      {"proxy_header_lost_in_gap", {"", get("/x")}, kProxyPort},
  };
}

HttpConfig small_config() {
  HttpConfig config = default_config();
  config.max_head_bytes = 256;
  return config;
}

class RequestStreamScenarioTest : public ::testing::TestWithParam<Scenario> {};

// Delivery granularity must never change what is found.
TEST_P(RequestStreamScenarioTest, SameResultWhateverTheSegmentation) {
  const Outcome whole = run(GetParam(), 0, small_config());
  EXPECT_FALSE(whole.overconsumed);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    const Outcome split = run(GetParam(), piece, small_config());
    EXPECT_EQ(split.requests, whole.requests) << "piece " << piece;
    EXPECT_EQ(split.phase, whole.phase) << "piece " << piece;
    EXPECT_EQ(split.counters, whole.counters) << "piece " << piece;
    EXPECT_EQ(split.kept, whole.kept) << "piece " << piece;
    EXPECT_FALSE(split.overconsumed);
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, RequestStreamScenarioTest, ::testing::ValuesIn(scenarios()),
                         [](const auto& info) { return info.param.name; });

const Scenario& scenario(const std::string& name) {
  static const std::vector<Scenario> all = scenarios();
  for (const Scenario& s : all) {
    if (s.name == name) return s;
  }
  static const Scenario none;
  ADD_FAILURE() << "no scenario " << name;
  return none;
}

std::vector<std::string> targets(const Outcome& outcome) {
  std::vector<std::string> out;
  for (const std::string& r : outcome.requests) out.push_back(r.substr(0, r.find('|')));
  return out;
}

TEST(RequestStreamParserTest, KeepAliveAndPipelinedRequestsAreAllFound) {
  EXPECT_THAT(targets(run(scenario("keep_alive"), 0)), ElementsAre("GET /a HTTP/1.1", "GET /b HTTP/1.1"));
  const Outcome pipelined = run(scenario("pipelined"), 0);
  EXPECT_THAT(targets(pipelined), ElementsAre("GET /1 HTTP/1.1", "GET /2 HTTP/1.1", "HEAD /3 HTTP/1.0"));
  EXPECT_EQ(pipelined.counters.at("http.requests"), 3u);
  EXPECT_EQ(pipelined.phase, Phase::kHead);
  EXPECT_EQ(pipelined.kept, 0u);
}

TEST(RequestStreamParserTest, HeadersAreDelivered) {
  const Outcome outcome = run(scenario("keep_alive"), 0);
  ASSERT_EQ(outcome.requests.size(), 2u);
  EXPECT_EQ(outcome.requests[0], "GET /a HTTP/1.1|Host:api.example");
}

TEST(RequestStreamParserTest, ContentLengthBodyIsSkippedNotParsed) {
  const Outcome outcome = run(scenario("content_length_body_hides_fake_request"), 0);
  EXPECT_THAT(targets(outcome), ElementsAre("POST /up HTTP/1.1", "GET /real HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.body_bytes_skipped"), 22u);
  EXPECT_EQ(outcome.counters.at("http.resyncs"), 0u);
}

TEST(RequestStreamParserTest, ChunkedBodyWithExtensionsAndTrailersIsSkipped) {
  const Outcome outcome = run(scenario("chunked_with_extension_and_trailer"), 0);
  EXPECT_THAT(targets(outcome), ElementsAre("POST /c HTTP/1.1", "GET /after HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.bad_framing"), 0u);
  EXPECT_THAT(targets(run(scenario("chunked_lf_only"), 0)), ElementsAre("POST /c HTTP/1.1", "GET /after HTTP/1.1"));
}

TEST(RequestStreamParserTest, ConnectAndUpgradeTurnTheStreamIntoATunnel) {
  const Outcome connect = run(scenario("connect_tunnel"), 0);
  EXPECT_THAT(targets(connect), ElementsAre("CONNECT db:5432 HTTP/1.1"));
  EXPECT_EQ(connect.phase, Phase::kTunnel);
  EXPECT_EQ(connect.counters.at("http.tunnels"), 1u);
  EXPECT_EQ(connect.counters.at("http.tunnel_bytes"), get("/inside").size() + get("/more").size());
  const Outcome upgrade = run(scenario("upgrade_tunnel"), 0);
  EXPECT_THAT(targets(upgrade), ElementsAre("GET /ws HTTP/1.1"));
  EXPECT_EQ(upgrade.phase, Phase::kTunnel);
  EXPECT_EQ(upgrade.counters.at("http.tunnels"), 1u);
  const Outcome h2c = run(scenario("upgrade_to_h2c"), 0);
  EXPECT_THAT(targets(h2c), ElementsAre("GET /u HTTP/1.1"));
  EXPECT_EQ(h2c.phase, Phase::kTunnel);
}

TEST(RequestStreamParserTest, DeclinedUpgradeKeepsParsingRequests) {
  const Outcome outcome = run(scenario("upgrade_declined"), 0);
  EXPECT_THAT(targets(outcome), ElementsAre("GET /ws HTTP/1.1", "GET /plain HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.tunnels"), 0u);
  EXPECT_EQ(outcome.phase, Phase::kHead);
}

TEST(RequestStreamParserTest, EmptyLinesBetweenRequestsAreSkipped) {
  const Outcome outcome = run(scenario("empty_lines_between"), 0);
  EXPECT_THAT(targets(outcome), ElementsAre("POST /p HTTP/1.1", "GET /next HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.empty_line_bytes"), 2u);
}

TEST(RequestStreamParserTest, GapsResynchroniseOnTheNextRequestLine) {
  const Outcome body = run(scenario("gap_in_body_then_resync"), 0);
  EXPECT_THAT(targets(body), ElementsAre("POST /a HTTP/1.1", "GET /b HTTP/1.1"));  // not /no: mid-line
  EXPECT_EQ(body.counters.at("http.resyncs"), 1u);
  EXPECT_EQ(body.counters.at("http.resync_bytes_skipped"), std::string("tail junk GET /no HTTP/1.1\r\n").size());
  EXPECT_THAT(targets(run(scenario("gap_in_head_then_resync"), 0)), ElementsAre("GET /found HTTP/1.1"));
  EXPECT_THAT(targets(run(scenario("gap_at_request_start"), 0)),
              ElementsAre("GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c HTTP/1.1"));
}

TEST(RequestStreamParserTest, NonHttpStreamsAreIgnoredAndCounted) {
  for (const char* name : {"not_http_ssh", "not_http_tls", "not_http_response", "not_http_h2_preface"}) {
    const Outcome outcome = run(scenario(name), 0);
    EXPECT_TRUE(outcome.requests.empty()) << name;
    EXPECT_EQ(outcome.phase, Phase::kIgnored) << name;
    EXPECT_EQ(outcome.counters.at("http.not_http"), 1u) << name;
    EXPECT_EQ(outcome.kept, 0u) << name;
    EXPECT_GT(outcome.counters.at("http.ignored_bytes"), 0u) << name;
  }
}

TEST(RequestStreamParserTest, NonHttpIsDecidedOnTheFirstLineNotAfterBuffering) {
  RecordingRequestSink sink;
  RequestStreamParser parser(default_config(), sink);
  FlowStreamDriver driver(parser, endpoints());
  driver.deliver("SSH-2.0-OpenSSH_9.2p1\r\n");
  EXPECT_EQ(driver.state().phase, Phase::kIgnored);
  EXPECT_EQ(driver.kept(), 0u);
}

TEST(RequestStreamParserTest, BadFramingAndBadHeadsResynchronise) {
  for (const char* name : {"bad_transfer_coding_resyncs", "conflicting_lengths_resync", "bad_chunk_size_resyncs",
                           "bad_header_resyncs"}) {
    const Outcome outcome = run(scenario(name), 0);
    ASSERT_FALSE(outcome.requests.empty()) << name;
    EXPECT_EQ(targets(outcome).back().substr(0, 9), "GET /next") << name;
    EXPECT_GE(outcome.counters.at("http.resyncs"), 1u) << name;
  }
  EXPECT_EQ(run(scenario("bad_header_resyncs"), 0).counters.at("http.bad_header"), 1u);
  EXPECT_EQ(run(scenario("bad_chunk_size_resyncs"), 0).counters.at("http.bad_framing"), 1u);
}

TEST(RequestStreamParserTest, GarbageAfterARequestResyncsInsteadOfIgnoring) {
  const Outcome outcome = run(scenario("garbage_after_request_resyncs"), 0);
  EXPECT_THAT(targets(outcome), ElementsAre("GET /first HTTP/1.1", "GET /second HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.not_http"), 0u);
}

TEST(RequestStreamParserTest, OversizedHeadIsCountedAndSkipped) {
  const Outcome outcome = run(scenario("head_too_large_resyncs"), 0, small_config());
  EXPECT_THAT(targets(outcome), ElementsAre("GET /small HTTP/1.1"));
  EXPECT_EQ(outcome.counters.at("http.head_too_large"), 1u);
}

TEST(RequestStreamParserTest, IncompleteHeadIsKeptByTheFlowTable) {
  RecordingRequestSink sink;
  RequestStreamParser parser(default_config(), sink);
  RequestStreamState state;
  const std::string partial = "GET /x HTTP/1.1\r\nHost: a\r\n";
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(partial.data());
  EXPECT_EQ(parser.on_client_bytes(endpoints(), state, {bytes, partial.size()}, 1), 0u);
  EXPECT_TRUE(sink.requests.empty());
  const std::string full = partial + "\r\nGET /y HTTP/1.1\r\n";
  bytes = reinterpret_cast<const std::uint8_t*>(full.data());
  EXPECT_EQ(parser.on_client_bytes(endpoints(), state, {bytes, full.size()}, 2), partial.size() + 2);
  ASSERT_EQ(sink.requests.size(), 1u);
  EXPECT_EQ(sink.requests[0].ts_us, 2);
}

TEST(RequestStreamParserTest, ProxyListenerAttributesToTheAnnouncedClient) {
  const Outcome v1 = run(scenario("proxy_v1_listener"), 0);
  ASSERT_EQ(v1.requests.size(), 2u);
  EXPECT_EQ(v1.requests[1], "GET /p2 HTTP/1.1|Host:api.example|proxy=203.0.113.9:51234");
  EXPECT_EQ(v1.counters.at("proxy.v1"), 1u);
  const Outcome v2 = run(scenario("proxy_v2_listener"), 0);
  ASSERT_EQ(v2.requests.size(), 1u);
  EXPECT_EQ(v2.requests[0], "GET /p HTTP/1.1|Host:api.example|proxy=203.0.113.10:51200");
  EXPECT_EQ(v2.counters.at("proxy.v2"), 1u);
  const Outcome local = run(scenario("proxy_local_listener"), 0);
  EXPECT_EQ(local.requests, std::vector<std::string>{"GET /health HTTP/1.1|Host:api.example"});
}

TEST(RequestStreamParserTest, ProxyListenerWithoutHeaderIsIgnored) {
  const Outcome missing = run(scenario("proxy_listener_without_header"), 0);
  EXPECT_TRUE(missing.requests.empty());
  EXPECT_EQ(missing.phase, Phase::kIgnored);
  EXPECT_EQ(missing.counters.at("proxy.invalid"), 1u);
  const Outcome lost = run(scenario("proxy_header_lost_in_gap"), 0);
  EXPECT_TRUE(lost.requests.empty());
  EXPECT_EQ(lost.counters.at("proxy.lost"), 1u);
}

TEST(RequestStreamParserTest, NonProxyPortTakesAProxyLineAsNotHttp) {
  const Outcome outcome = run(Scenario{"x", {kProxyV1 + get("/a")}, kHttpPort}, 0);
  EXPECT_TRUE(outcome.requests.empty());
  EXPECT_EQ(outcome.counters.at("http.not_http"), 1u);
}

PacketView segment(std::uint16_t dst_port, const std::string& payload) {
  PacketView view;
  view.dst_port = dst_port;
  view.src_port = 40000;
  view.payload = {reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()};
  return view;
}

TEST(RequestStreamParserTest, DirectionWithAnyPortsFollowsThePayload) {
  RecordingRequestSink sink;
  RequestStreamParser parser(default_config(), sink);
  const std::string request = get("/x");
  const std::string response = "HTTP/1.1 200 OK\r\n\r\n";
  const std::string cut = "POST /very/long/target?with=query";
  const std::string cut_unknown = "FROB /very/long/target";
  EXPECT_TRUE(parser.is_client_to_server(segment(12345, request)));
  EXPECT_FALSE(parser.is_client_to_server(segment(40000, response)));
  EXPECT_TRUE(parser.is_client_to_server(segment(12345, cut)));
  EXPECT_FALSE(parser.is_client_to_server(segment(12345, cut_unknown)));
  EXPECT_FALSE(parser.is_client_to_server(segment(12345, "")));
  EXPECT_TRUE(parser.is_client_to_server(segment(kProxyPort, kProxyV1)));
  EXPECT_FALSE(parser.is_client_to_server(segment(12345, kProxyV1)));
  EXPECT_TRUE(parser.wants_flow(endpoints(12345)));
}

TEST(RequestStreamParserTest, DirectionWithPortListFollowsThePort) {
  HttpConfig config;
  config.any_port = false;
  config.ports = {8080};
  config.proxy_protocol_ports = {9000};
  RecordingRequestSink sink;
  RequestStreamParser parser(config, sink);
  EXPECT_TRUE(parser.is_client_to_server(segment(8080, "")));
  EXPECT_TRUE(parser.is_client_to_server(segment(9000, "")));
  EXPECT_FALSE(parser.is_client_to_server(segment(12345, get("/x"))));
  EXPECT_TRUE(parser.wants_flow(endpoints(8080)));
  EXPECT_TRUE(parser.wants_flow(endpoints(9000)));
  EXPECT_FALSE(parser.wants_flow(endpoints(80)));
}

TEST(RequestStreamParserTest, ReportsEveryCounter) {
  RecordingRequestSink sink;
  RequestStreamParser parser(default_config(), sink);
  CounterMap counters;
  parser.report(counters);
  for (const char* name : {"http.requests", "http.not_http", "http.body_bytes_skipped", "http.resyncs", "http.tunnels",
                           "http.bad_request_line", "http.bad_header", "http.too_many_headers", "http.head_too_large",
                           "proxy.v1", "proxy.v2", "proxy.invalid"}) {
    EXPECT_EQ(counters.values.count(name), 1u) << name;
  }
}

}  // namespace
}  // namespace ipattrib::agent
