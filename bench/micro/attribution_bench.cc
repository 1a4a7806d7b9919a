// Attribution rules: Attributor::on_request for one parsed head per account
// rule (header, path, query, JWT claim, API key) and for a request from the
// trusted proxy naming its client in X-Forwarded-For; the rule chain is the
// generator's (header, path, query, jwt, api_key), so later rules also pay
// for the earlier ones not matching.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "agent/attribution/attributor.h"
#include "agent/attribution/sha256_hasher.h"
#include "agent/http/request_head_parser.h"

namespace ipattrib::agent::micro {
namespace {

constexpr std::string_view kApiKey = "k-0123456789abcdef0123456789abcdef";

std::string key_file() {
  Sha256Hasher hasher;
  Sha256Digest digest;
  hasher.digest(kApiKey, digest);
  std::string hex;
  for (std::uint8_t b : digest) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  const std::string path = (std::filesystem::temp_directory_path() / "ipattrib-micro-api-keys.tsv").string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f, "%s acct-api\n", hex.c_str());
  std::fclose(f);
  return path;
}

AttributionConfig config() {
  const std::string toml_text = R"(
trusted_proxies = ["10.30.0.5/32"]
[[account]]
type = "header"
name = "X-Account-Id"
[[account]]
type = "path"
template = "/v1/accounts/{account}/..."
[[account]]
type = "query"
name = "account"
[[account]]
type = "jwt"
claim = "account"
principal_claim = "sub"
[[account]]
type = "api_key"
key_file = ")" + key_file() + "\"\n";
  ConfigErrors errors("micro-bench.toml");
  AttributionConfig c = parse_attribution_config(toml::parse(toml_text), errors);
  if (!errors.empty()) std::fprintf(stderr, "%s", errors.to_string().c_str());
  return c;
}

constexpr std::string_view kCommon =
    "Host: api.example.com\r\nUser-Agent: example-sdk/2.3.1\r\nAccept: application/json\r\n"
    "X-Request-Id: 5f2b8c1e-9d4a-4e7b-a1c3-7e6f5d4c3b2a\r\n";

std::string head_for(std::string_view rule) {
  std::string line = "GET /v1/orders HTTP/1.1\r\n";
  std::string extra;
  if (rule == "header") extra = "X-Account-Id: acct-1234\r\n";
  if (rule == "path") line = "GET /v1/accounts/acct-1234/orders HTTP/1.1\r\n";
  if (rule == "query") line = "GET /v1/orders?limit=10&account=acct-1234 HTTP/1.1\r\n";
  if (rule == "jwt") {
    // {"sub":"user-77","account":"acct-1234","iat":1700000000}
    extra = "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiJ1c2VyLTc3IiwiYWNjb3VudCI6ImFjY3QtMTIzNCIsImlhdCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJl\r\n";
  }
  if (rule == "api_key") extra = "X-Api-Key: " + std::string(kApiKey) + "\r\n";
  if (rule == "proxied") extra = "X-Forwarded-For: 6.6.6.6, 198.18.3.4\r\nX-Account-Id: acct-1234\r\n";
  return line + std::string(kCommon) + extra + "\r\n";
}

class CountingEventSink final : public AccessEventSink {
 public:
  void on_access(const AccessEvent& event) override {
    ++events;
    if (event.has_account) ++with_account;
  }
  std::uint64_t events = 0;
  std::uint64_t with_account = 0;
};

void run(benchmark::State& state, std::string_view rule) {
  const AttributionConfig c = config();
  CountingEventSink sink;
  Attributor attributor(c, sink);
  const std::string text = head_for(rule);
  RequestHeadParser parser;
  RequestHead head;
  if (parser.parse(text, head) != RequestHeadParser::Result::kOk) {
    state.SkipWithError("head did not parse");
    return;
  }
  const bool proxied = rule == "proxied";
  const FlowEndpoints endpoints{IpAddress::from_v4(proxied ? 0x0A1E0005 : 0xC6120001), IpAddress::from_v4(0xC000020A),
                                40000, 80};
  const RequestContext context{1, &endpoints, nullptr};
  for (auto _ : state) attributor.on_request(context, head);
  if (sink.with_account != sink.events) state.SkipWithError("no account found");
  state.SetItemsProcessed(state.iterations());
}

void BM_AttributeHeader(benchmark::State& state) { run(state, "header"); }
void BM_AttributePath(benchmark::State& state) { run(state, "path"); }
void BM_AttributeQuery(benchmark::State& state) { run(state, "query"); }
void BM_AttributeJwt(benchmark::State& state) { run(state, "jwt"); }
void BM_AttributeApiKey(benchmark::State& state) { run(state, "api_key"); }
void BM_AttributeProxiedXff(benchmark::State& state) { run(state, "proxied"); }
BENCHMARK(BM_AttributeHeader);
BENCHMARK(BM_AttributePath);
BENCHMARK(BM_AttributeQuery);
BENCHMARK(BM_AttributeJwt);
BENCHMARK(BM_AttributeApiKey);
BENCHMARK(BM_AttributeProxiedXff);

}  // namespace
}  // namespace ipattrib::agent::micro
