#include "bench/generator/request_factory.h"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace ipattrib::bench {
namespace {

struct MethodShare {
  std::string_view name;
  bool admin;
  unsigned weight;  // out of 100
};

// Default class rules of the agent: GET/HEAD/OPTIONS are access, the rest admin.
constexpr MethodShare kMethods[] = {{"GET", false, 55},  {"HEAD", false, 5}, {"OPTIONS", false, 3},
                                    {"POST", true, 17},  {"PUT", true, 8},   {"PATCH", true, 6},
                                    {"DELETE", true, 6}};

constexpr std::string_view kResources[] = {"instances", "volumes",      "networks",     "images",
                                           "snapshots", "keys",         "load-balancers", "dns/zones",
                                           "iam/users", "billing/invoices"};

constexpr std::string_view kUserAgents[] = {"curl/7.88.1", "python-requests/2.31.0",
                                            "Terraform/1.6.2 terraform-provider-cloud/3.1.0",
                                            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                                            "cloud-cli/2.14.0 go1.21.4 linux/amd64"};

constexpr std::string_view kFiller =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip. ";

// Body text that looks like a request head: an agent that loses track of the
// body would report it as a request.
constexpr std::string_view kSmuggledLookalike =
    "GET /v1/accounts/acct-9999/instances HTTP/1.1\r\nHost: evil.example\r\nX-Account-Id: acct-9999\r\n\r\n";

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void append_base64url(std::string_view data, std::string& out) {
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint8_t(data[i]) << 16) | (std::uint8_t(data[i + 1]) << 8) | std::uint8_t(data[i + 2]);
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
    out += kBase64Url[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint8_t(data[i]) << 16;
  if (rest == 2) v |= std::uint8_t(data[i + 1]) << 8;
  out += kBase64Url[(v >> 18) & 63];
  out += kBase64Url[(v >> 12) & 63];
  if (rest == 2) out += kBase64Url[(v >> 6) & 63];
}

void append_filler(std::size_t length, std::string& out) {
  while (length > 0) {
    const std::size_t n = std::min(length, kFiller.size());
    out.append(kFiller.substr(0, n));
    length -= n;
  }
}

}  // namespace

RequestFactory::AccountCarrier RequestFactory::pick_carrier() {
  const std::uint32_t r = random_.below(100);
  if (r < 20) return AccountCarrier::kHeader;
  if (r < 38) return AccountCarrier::kPath;
  if (r < 48) return AccountCarrier::kQuery;
  if (r < 68) return AccountCarrier::kJwt;
  if (r < 83) return AccountCarrier::kApiKey;
  if (r < 85) return AccountCarrier::kUnknownApiKey;
  return AccountCarrier::kNone;
}

void RequestFactory::append_random_token(std::size_t length, std::string& out) {
  for (std::size_t i = 0; i < length; ++i) out += kBase64Url[random_.below(64)];
}

void RequestFactory::append_target(AccountCarrier carrier, const std::string& account, std::string& target) {
  const std::string_view resource = kResources[random_.below(std::size(kResources))];
  const bool with_id = random_.percent(50);
  const std::uint32_t id = random_.next_u32();
  switch (carrier) {
    case AccountCarrier::kPath:
      fmt::format_to(std::back_inserter(target), "/v1/accounts/{}/{}", account, resource);
      if (with_id) fmt::format_to(std::back_inserter(target), "/r-{:08x}", id);
      if (random_.percent(20)) target += "?limit=50";
      return;
    case AccountCarrier::kQuery:
      fmt::format_to(std::back_inserter(target), "/v1/{}", resource);
      if (with_id) fmt::format_to(std::back_inserter(target), "/r-{:08x}", id);
      if (random_.percent(50)) {
        fmt::format_to(std::back_inserter(target), "?account={}", account);
      } else {
        fmt::format_to(std::back_inserter(target), "?limit={}&account={}&region=eu-{}", random_.between(1, 100), account,
                       random_.below(4));
      }
      return;
    case AccountCarrier::kNone: {
      const std::uint32_t r = random_.below(4);
      if (r == 0) {
        target += "/healthz";
        return;
      }
      if (r == 1) {
        target += "/v1/regions?verbose=1";
        return;
      }
      break;
    }
    default:
      break;
  }
  fmt::format_to(std::back_inserter(target), "/v1/{}", resource);
  if (with_id) fmt::format_to(std::back_inserter(target), "/r-{:08x}", id);
  if (random_.percent(15)) fmt::format_to(std::back_inserter(target), "?page={}", random_.between(1, 9));
}

void RequestFactory::append_forwarding_header(const SimulatedClient& client, std::string& head) {
  const std::string& ip = client.address.text;
  const std::uint32_t r = random_.below(100);
  if (r < 55) {
    fmt::format_to(std::back_inserter(head), "X-Forwarded-For: {}\r\n", ip);
  } else if (r < 70) {  // the client wrote its own header; the proxy appended the real address
    fmt::format_to(std::back_inserter(head), "X-Forwarded-For: 6.6.6.6, {}\r\n", ip);
  } else if (r < 75) {  // the proxy listed itself too: trusted hops are skipped
    fmt::format_to(std::back_inserter(head), "x-forwarded-for: {},10.30.0.5\r\n", ip);
  } else if (r < 87) {
    if (client.address.v6) {
      fmt::format_to(std::back_inserter(head), "Forwarded: for=\"[{}]\";proto=https\r\n", ip);
    } else if (random_.percent(50)) {
      fmt::format_to(std::back_inserter(head), "Forwarded: for=198.51.100.66, for={};proto=https\r\n", ip);
    } else {
      fmt::format_to(std::back_inserter(head), "Forwarded: for={};proto=https;host=api.example.net\r\n", ip);
    }
  } else {
    fmt::format_to(std::back_inserter(head), "X-Real-IP: {}\r\n", ip);
  }
}

void RequestFactory::append_jwt(const std::string& account, const std::string& principal, std::string& head) {
  static constexpr std::string_view kJoseHeader = R"({"alg":"RS256","typ":"JWT","kid":"gw-2026-1"})";
  std::string payload;
  const std::uint32_t iat = 1795420000 + random_.below(3600);
  if (random_.percent(50)) {
    payload = fmt::format(R"({{"iss":"https://id.example.net","sub":"{}","account":"{}","iat":{},"exp":{}}})",
                          principal, account, iat, iat + 3600);
  } else {
    payload = fmt::format(R"({{"account":"{}","scope":"compute:write storage:read","sub":"{}","iat":{}}})", account,
                          principal, iat);
  }
  head += "Authorization: Bearer ";
  append_base64url(kJoseHeader, head);
  head += '.';
  append_base64url(payload, head);
  head += '.';
  append_random_token(86, head);  // fake signature: the gateway verified it, the agent does not
  head += "\r\n";
}

void RequestFactory::make(const SimulatedClient& client, bool peer_is_proxy, std::uint16_t server_port,
                          GeneratedRequest& out) {
  RequestTruth& truth = out.truth;
  std::uint32_t pick = random_.below(100);
  const MethodShare* method = &kMethods[0];
  for (const MethodShare& m : kMethods) {
    method = &m;
    if (pick < m.weight) break;
    pick -= m.weight;
  }
  truth.method = method->name;
  truth.admin = method->admin;
  truth.client_ip = client.address.text;

  const std::uint32_t account_index =
      random_.percent(85) ? client.home_account : random_.below(TrafficPopulation::kAccounts);
  const std::string account = TrafficPopulation::account_id(account_index);
  const AccountCarrier carrier = pick_carrier();
  const bool matches = carrier != AccountCarrier::kNone && carrier != AccountCarrier::kUnknownApiKey;
  truth.account = matches ? account : "-";
  truth.principal = "-";
  if (carrier == AccountCarrier::kJwt) truth.principal = fmt::format("user-{:03}.{}", random_.below(40), account);
  truth.target.clear();
  append_target(carrier, account, truth.target);
  if (server_port == 8080) {
    truth.host = "api.example.net:8080";
  } else {
    truth.host = random_.percent(10) ? "console-api.example.net" : "api.example.net";
  }

  const bool http10 = random_.percent(4);
  std::string& wire = out.wire;
  wire.clear();
  fmt::format_to(std::back_inserter(wire), "{} {} HTTP/1.{}\r\n", truth.method, truth.target, http10 ? 0 : 1);
  const bool host_first = random_.percent(80);
  if (host_first) fmt::format_to(std::back_inserter(wire), "Host: {}\r\n", truth.host);
  fmt::format_to(std::back_inserter(wire), "User-Agent: {}\r\n", kUserAgents[random_.below(std::size(kUserAgents))]);
  if (!host_first) fmt::format_to(std::back_inserter(wire), "host: {}\r\n", truth.host);
  wire += "Accept: application/json\r\n";

  switch (carrier) {
    case AccountCarrier::kHeader: {
      const std::uint32_t r = random_.below(10);
      const char* format = r < 7 ? "X-Account-Id: {}\r\n" : r < 9 ? "x-account-id: {}\r\n" : "X-ACCOUNT-ID:  {} \r\n";
      fmt::format_to(std::back_inserter(wire), fmt::runtime(format), account);
      break;
    }
    case AccountCarrier::kJwt:
      append_jwt(account, truth.principal, wire);
      break;
    case AccountCarrier::kApiKey:
      fmt::format_to(std::back_inserter(wire), "{}: {}\r\n", random_.percent(80) ? "X-Api-Key" : "x-api-key",
                     population_.api_key(account_index));
      break;
    case AccountCarrier::kUnknownApiKey:
      wire += "X-Api-Key: ak_revoked";
      append_random_token(30, wire);
      wire += "\r\n";
      break;
    default:
      break;
  }
  if (peer_is_proxy) {
    append_forwarding_header(client, wire);
  } else if (random_.percent(3)) {
    wire += "X-Forwarded-For: 6.6.6.6\r\n";  // untrusted peer: must be ignored
  }
  if (random_.percent(4)) {
    wire += "Cookie: session=";
    append_random_token(random_.between(200, 1800), wire);
    wire += "\r\n";
  }

  body_.clear();
  const bool has_body = method->name == "POST" || method->name == "PUT" || method->name == "PATCH" ||
                        (method->name == "DELETE" && random_.percent(15));
  if (has_body) {
    make_body();
    wire += "Content-Type: application/json\r\n";
    if (!http10 && random_.percent(20)) {
      wire += "Transfer-Encoding: chunked\r\n";
      chunk_body();
    } else {
      fmt::format_to(std::back_inserter(wire), "Content-Length: {}\r\n", body_.size());
    }
  } else if (method->name == "GET" && random_.percent(3)) {
    wire += "Content-Length: 0\r\n";
  }
  if (random_.percent(30)) wire += http10 ? "Connection: keep-alive\r\n" : "Connection: Keep-Alive\r\n";
  wire += "\r\n";
  out.head_length = wire.size();
  wire += body_;
}

void RequestFactory::make_body() {
  if (random_.percent(5)) {
    body_ = kSmuggledLookalike;
    return;
  }
  const std::uint32_t r = random_.below(100);
  const std::size_t note = r < 70 ? random_.between(0, 250) : r < 95 ? random_.between(250, 1400) : random_.between(1400, 6000);
  fmt::format_to(std::back_inserter(body_), R"({{"name":"web-{}","size":{},"tags":["prod","eu"],"note":")",
                 random_.below(1000), random_.between(1, 512));
  append_filler(note, body_);
  body_ += "\"}";
}

void RequestFactory::chunk_body() {
  std::string chunked;
  std::size_t at = 0;
  while (at < body_.size()) {
    const std::size_t n = std::min<std::size_t>(body_.size() - at, random_.between(1, 700));
    const std::uint32_t style = random_.below(10);
    if (style < 7) {
      fmt::format_to(std::back_inserter(chunked), "{:x}\r\n", n);
    } else if (style < 9) {
      fmt::format_to(std::back_inserter(chunked), "{:X}\r\n", n);
    } else {
      fmt::format_to(std::back_inserter(chunked), "{:x};ext=1\r\n", n);
    }
    chunked.append(body_, at, n);
    chunked += "\r\n";
    at += n;
  }
  chunked += "0\r\n\r\n";
  body_.swap(chunked);
}

}  // namespace ipattrib::bench
