// End to end on real hosts: a network of `ip netns` namespaces joined by
// veth pairs, with client hosts on public-looking IPv4 and IPv6 addresses, a
// gateway running a real reverse proxy from Debian that terminates their TLS
// and forwards plaintext HTTP to an API backend, ipattrib-agent capturing on
// the gateway's backend-side interface, and ipattrib-collector on its own
// host reached over mutual TLS, alerting to a webhook receiver on that host.
// Clients make a known set of requests with curl (kept-alive connections,
// several accounts, admin and read calls, one client forging
// X-Forwarded-For). Through the real ipattribctl the test then checks that
// every account's IPs are exactly its clients' real addresses with the
// right counts and classes (never the proxy's, never the forged one), and
// that the client the test's geo database places in Iran raised exactly one
// alert, delivered once. Variant 1: nginx adding X-Forwarded-For. Variant 2:
// haproxy sending the PROXY protocol (v2) to the backend.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/integration/alerts/alerts_e2e_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/mmdb_writer.h"
#include "tests/support/network_namespaces.h"

namespace ipattrib {
namespace {

namespace fs = std::filesystem;
using alerts_e2e::canonical_ip;
using alerts_e2e::kToken;
using alerts_e2e::kTokenSha256;
using alerts_e2e::kWebhookSecret;
using alerts_e2e::read_file;
using alerts_e2e::WebhookReceiver;
using nlohmann::json;
using test_support::ChildProcess;
using test_support::eventually;
using test_support::NetworkNamespaces;
using test_support::run;

// ---------------------------------------------------------------------------
// The network. Clients reach the API's public address on the gateway through
// a link each; the gateway reaches the backend and the collector through
// one link each. Nothing is routed between links: the proxy terminates.

constexpr const char* kApi4 = "192.0.2.1";      // the API's public address (gateway loopback)
constexpr const char* kApi6 = "2001:db8:f::1";
constexpr const char* kProxyBackendSide = "10.20.0.1";  // the proxy's source towards the backend
constexpr const char* kBackend = "10.20.0.2";
constexpr const char* kCollector = "10.30.0.2";
constexpr int kHttpPort = 8080;           // backend, plain HTTP
constexpr int kProxyProtocolPort = 8081;  // backend, PROXY protocol first
constexpr int kIngestPort = 7443;
constexpr int kApiPort = 8080;  // collector's query API, on its loopback

struct Client {
  std::string host;
  std::string ip4, gateway4;  // /31 point-to-point; "" for an IPv6-only client
  std::string ip6, gateway6;  // /64; "" for an IPv4-only client
};

const std::vector<Client>& clients() {
  static const std::vector<Client> all = {
      {"c1", "203.0.113.10", "203.0.113.11", "", ""},
      {"c2", "", "", "2001:db8:2::20", "2001:db8:2::1"},
      {"c3", "198.51.100.30", "198.51.100.31", "", ""},  // Iran, per the test's geo database
      {"c4", "203.0.113.40", "203.0.113.41", "2001:db8:4::40", "2001:db8:4::1"},  // forges X-Forwarded-For
  };
  return all;
}

constexpr const char* kIranClient = "198.51.100.30";
constexpr const char* kForged = "9.9.9.9";  // in Iran too: believing it would raise an alert
constexpr const char* kIranMeasure = "us-comprehensive-iran";

// ---------------------------------------------------------------------------
// The requests and what they must leave in the ledger.

struct Call {
  std::string method;
  std::string path;
  std::string account_header;  // X-Account-Id; "" for none (the path may name the account)
  std::string forwarded_for;   // a forged X-Forwarded-For; "" for none
  std::string account;         // what the agent must find; "" for none (not shipped)
  std::string access_class;    // what the agent's class rules must decide
};

// One curl invocation: one kept-alive connection over IPv4 or IPv6.
struct Session {
  std::string host;
  bool ipv6 = false;
  std::vector<Call> calls;
};

const std::vector<Session>& sessions() {
  static const std::vector<Session> all = {
      {"c1", false,
       {{"GET", "/v1/items", "acme", "", "acme", "access"},
        {"GET", "/v1/items/1", "acme", "", "acme", "access"},
        {"POST", "/admin/users", "acme", "", "acme", "admin"},
        {"GET", "/admin/audit", "acme", "", "acme", "admin"},  // /admin is admin, reads included
        {"GET", "/v1/accounts/initech/orders", "", "", "initech", "access"},
        {"DELETE", "/v1/accounts/initech/orders/7", "", "", "initech", "admin"},
        {"GET", "/status", "", "", "", ""}}},  // no account: not shipped
      {"c2", true,
       {{"GET", "/v1/items", "acme", "", "acme", "access"},
        {"GET", "/v1/items", "acme", "", "acme", "access"},
        {"PUT", "/v1/settings", "globex", "", "globex", "admin"},
        {"HEAD", "/v1/items", "globex", "", "globex", "access"}}},
      {"c3", false,
       {{"GET", "/v1/accounts/initech/reports", "", "", "initech", "access"},
        {"GET", "/v1/accounts/initech/reports/q3", "", "", "initech", "access"},
        {"POST", "/v1/accounts/initech/exports", "", "", "initech", "admin"}}},
      {"c4", false,
       {{"GET", "/v1/items", "globex", kForged, "globex", "access"},
        {"GET", "/v1/items/2", "globex", kForged, "globex", "access"},
        // A forged chain naming the proxy itself: still the rightmost untrusted.
        {"POST", "/admin/keys", "globex", std::string(kForged) + ", " + kProxyBackendSide, "globex", "admin"}}},
      {"c4", true, {{"GET", "/v1/items", "initech", kForged, "initech", "access"}}},
  };
  return all;
}

// account -> (client ip, class) -> requests.
using Ledger = std::map<std::string, std::map<std::pair<std::string, std::string>, std::uint64_t>>;

std::string address_of(const Session& session) {
  for (const Client& c : clients()) {
    if (c.host == session.host) return session.ipv6 ? c.ip6 : c.ip4;
  }
  return "";
}

Ledger expected_ledger() {
  Ledger ledger;
  for (const Session& s : sessions()) {
    for (const Call& call : s.calls) {
      if (!call.account.empty()) ++ledger[call.account][{canonical_ip(address_of(s)), call.access_class}];
    }
  }
  return ledger;
}

std::uint64_t requests_from(const std::string& ip, const std::string& account) {
  const Ledger ledger = expected_ledger();
  std::uint64_t n = 0;
  for (const auto& [key, count] : ledger.at(account)) n += key.first == ip ? count : 0;
  return n;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// ---------------------------------------------------------------------------

// Network set-up steps: the first that fails ends the test with ip's message.
#define MUST(expression)                                \
  do {                                                  \
    const Status status_ = (expression);                \
    ASSERT_TRUE(status_.is_ok()) << status_.message();  \
  } while (0)

enum class Proxy { kNginxForwardedFor, kHaproxyProxyProtocol };

class NetnsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* binary : {"/usr/sbin/nginx", "/usr/sbin/haproxy", "/usr/bin/curl", "/usr/bin/setpriv"}) {
      if (::access(binary, X_OK) != 0) GTEST_SKIP() << "skipped: " << binary << " is missing (scripts/setup.sh)";
    }
    net_ = std::make_unique<NetworkNamespaces>();
    if (Status s = net_->add_host("gw"); !s) {
      GTEST_SKIP() << "skipped: this machine cannot create network namespaces (needs root): " << s.message();
    }
    dir_ = fs::temp_directory_path() / ("ipattrib-netns-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_NO_FATAL_FAILURE(build_network());
    ASSERT_NO_FATAL_FAILURE(make_pki());
    ASSERT_NO_FATAL_FAILURE(write_geo_database());
    std::ofstream(dir_ / "webhook.secret") << kWebhookSecret << "\n";
  }

  void TearDown() override {
    // Processes first, then (in the members' destructors) the namespaces.
    agent_.reset();
    proxy_.reset();
    backend_.reset();
    collector_.reset();
    webhook_.reset();
    if (HasFailure()) {
      std::cerr << "netns e2e: logs and configs kept in " << dir_ << "\n";
    } else if (!dir_.empty()) {
      fs::remove_all(dir_);
    }
  }

  void build_network() {
    for (const char* host : {"be", "col"}) MUST(net_->add_host(host));
    MUST(net_->add_address("gw", "lo", std::string(kApi4) + "/32"));
    MUST(net_->add_address("gw", "lo", std::string(kApi6) + "/128"));
    for (const Client& c : clients()) {
      MUST(net_->add_host(c.host));
      const std::string gw_side = "gw-" + c.host;
      MUST(net_->link(c.host, "eth0", "gw", gw_side));
      if (!c.ip4.empty()) {
        MUST(net_->add_address(c.host, "eth0", c.ip4 + "/31"));
        MUST(net_->add_address("gw", gw_side, c.gateway4 + "/31"));
        MUST(net_->add_route(c.host, {"default", "via", c.gateway4}));
      }
      if (!c.ip6.empty()) {
        MUST(net_->add_address(c.host, "eth0", c.ip6 + "/64"));
        MUST(net_->add_address("gw", gw_side, c.gateway6 + "/64"));
        MUST(net_->add_route(c.host, {"default", "via", c.gateway6}));
      }
    }
    MUST(net_->link("gw", "gw-be", "be", "eth0"));
    MUST(net_->add_address("gw", "gw-be", std::string(kProxyBackendSide) + "/24"));
    MUST(net_->add_address("be", "eth0", std::string(kBackend) + "/24"));
    MUST(net_->link("gw", "gw-col", "col", "eth0"));
    MUST(net_->add_address("gw", "gw-col", "10.30.0.1/24"));
    MUST(net_->add_address("col", "eth0", std::string(kCollector) + "/24"));
  }

  void make_pki() {
    const std::string pki = (dir_ / "pki").string();
    const std::string source = IPATTRIB_SOURCE_DIR;
    std::string out;
    ASSERT_EQ(run(source + "/scripts/make-pki.sh " + pki + " --agent gw-agent", &out), 0) << out;
    const std::string cert = source + "/tests/integration/netns_e2e/server-cert.sh " + pki;
    ASSERT_EQ(run(cert + " collector-ns IP:" + kCollector, &out), 0) << out;
    ASSERT_EQ(run(cert + " frontend IP:" + std::string(kApi4) + ",IP:" + kApi6, &out), 0) << out;
  }

  // GeoIP2-City shaped: the documentation networks in Germany, except the
  // Iran client's /24 and the forged address's.
  void write_geo_database() {
    using test_support::MmdbValue;
    auto located = [](const char* country) {
      const MmdbValue iso = MmdbValue::map({{"iso_code", country}});
      return MmdbValue::map({{"country", iso}, {"registered_country", iso}});
    };
    test_support::MmdbWriter city;
    for (const char* network : {"203.0.113.0/24", "2001:db8::/32"}) city.add(*Cidr::parse(network), located("DE"));
    for (const char* network : {"198.51.100.0/24", "9.9.9.0/24"}) city.add(*Cidr::parse(network), located("IR"));
    Status s = city.write((dir_ / "city.mmdb").string(), "GeoIP2-City", 1700000000);
    ASSERT_TRUE(s.is_ok()) << s.message();
  }

  // --- processes -----------------------------------------------------------

  std::unique_ptr<ChildProcess> start(const std::string& host, const std::vector<std::string>& argv,
                                      const std::string& log_name) {
    auto child = std::make_unique<ChildProcess>();
    child->start(net_->exec_argv(host, argv), (dir_ / log_name).string());
    return child;
  }
  std::string in(const std::string& host) const { return net_->shell_prefix(host); }
  std::string log(const std::string& name) const { return read_file(dir_ / name); }

  void start_webhook_receiver() {
    // A thread that moved into the collector's namespace opens the
    // receiver's socket there; the collector posts to its loopback.
    Status entered;
    std::thread([&] {
      entered = net_->enter("col");
      if (entered) webhook_ = std::make_unique<WebhookReceiver>(0);
    }).join();
    ASSERT_TRUE(entered.is_ok()) << entered.message();
  }

  void start_collector() {
    const std::string pki = (dir_ / "pki").string();
    std::ofstream(dir_ / "collector.toml")
        << "stats_interval_s = 1\n"
        << "[ledger]\nsqlite_path = \"" << (dir_ / "ledger.sqlite3").string() << "\"\n"
        << "[ingest]\nlisten = \"" << kCollector << ":" << kIngestPort << "\"\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/collector-ns.crt\"\n"
        << "tls_key = \"" << pki << "/collector-ns.key\"\nallowed_agents = [\"gw-agent\"]\n"
        << "[api]\nlisten = \"127.0.0.1:" << kApiPort << "\"\ntoken_sha256 = [\"" << kTokenSha256 << "\"]\n"
        << "[policy]\npath = \"" << IPATTRIB_SOURCE_DIR << "/config/special-measures.toml\"\n"
        << "[alerts]\nsqlite_path = \"" << (dir_ / "alerts.sqlite3").string() << "\"\n"
        << "retry_base_ms = 20\nretry_max_ms = 200\n"
        << "[[alerts.webhook]]\nname = \"hook\"\nurl = \"http://127.0.0.1:" << webhook_->port() << "/hook\"\n"
        << "secret_file = \"" << (dir_ / "webhook.secret").string() << "\"\ntimeout_ms = 5000\n";
    collector_ = start("col", {IPATTRIB_COLLECTOR_BIN, "--config", (dir_ / "collector.toml").string()},
                       "collector.log");
    ASSERT_TRUE(eventually([&] {
      return run(in("col") + "curl -sf -o /dev/null http://127.0.0.1:" + std::to_string(kApiPort) + "/healthz") == 0;
    })) << "collector did not become ready: " << log("collector.log");
  }

  // nginx in the foreground as one process, every path in the test's dir.
  std::unique_ptr<ChildProcess> start_nginx(const std::string& host, const std::string& name,
                                            const std::string& http_block) {
    const fs::path prefix = dir_ / name;
    fs::create_directories(prefix / "tmp");
    const std::string p = prefix.string();
    std::ofstream(prefix / "nginx.conf")
        << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << p << "/nginx.pid;\n"
        << "error_log " << p << "/error.log info;\nevents { worker_connections 256; }\n"
        << "http {\n"
        << "  log_format main '$remote_addr $proxy_protocol_addr \"$request\" $status xff=\"$http_x_forwarded_for\" "
           "account=\"$http_x_account_id\"';\n"
        << "  access_log " << p << "/access.log main;\n"
        << "  client_body_temp_path " << p << "/tmp/body;\n  proxy_temp_path " << p << "/tmp/proxy;\n"
        << "  fastcgi_temp_path " << p << "/tmp/fastcgi;\n  uwsgi_temp_path " << p << "/tmp/uwsgi;\n"
        << "  scgi_temp_path " << p << "/tmp/scgi;\n"
        << http_block << "}\n";
    return start(host, {"/usr/sbin/nginx", "-p", p, "-c", p + "/nginx.conf", "-e", p + "/error.log"},
                 name + ".log");
  }

  void start_backend() {
    backend_ = start_nginx("be", "backend",
                           "  server {\n"
                           "    listen " + std::string(kBackend) + ":" + std::to_string(kHttpPort) + ";\n"
                           "    listen " + kBackend + ":" + std::to_string(kProxyProtocolPort) + " proxy_protocol;\n"
                           "    location / { return 200 \"ok\\n\"; }\n"
                           "  }\n");
  }

  void start_proxy(Proxy proxy) {
    const std::string pki = (dir_ / "pki").string();
    if (proxy == Proxy::kNginxForwardedFor) {
      proxy_ = start_nginx("gw", "proxy",
                           "  upstream api { server " + std::string(kBackend) + ":" + std::to_string(kHttpPort) +
                               "; keepalive 4; }\n"
                               "  server {\n"
                               "    listen " + kApi4 + ":443 ssl;\n    listen [" + kApi6 + "]:443 ssl;\n"
                               "    ssl_certificate " + pki + "/frontend.crt;\n"
                               "    ssl_certificate_key " + pki + "/frontend.key;\n"
                               "    location / {\n      proxy_pass http://api;\n      proxy_http_version 1.1;\n"
                               "      proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n"
                               "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }\n"
                               "  }\n");
      return;
    }
    std::ofstream(dir_ / "haproxy.cfg")
        << "global\n  maxconn 256\n"
        << "defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
        << "frontend api\n"
        << "  bind " << kApi4 << ":443 ssl crt " << pki << "/frontend.pem\n"
        << "  bind [" << kApi6 << "]:443 ssl crt " << pki << "/frontend.pem\n"
        << "  default_backend app\n"
        << "backend app\n  server be1 " << kBackend << ":" << kProxyProtocolPort << " send-proxy-v2\n";
    proxy_ = start("gw", {"/usr/sbin/haproxy", "-f", (dir_ / "haproxy.cfg").string(), "-db"}, "haproxy.log");
  }

  void start_agent() {
    const std::string pki = (dir_ / "pki").string();
    std::ofstream(dir_ / "agent.toml")
        << "[agent]\nid = \"gw-agent\"\ngateway = \"gw-netns\"\nstats_interval_s = 1\n"
        << "[capture]\ninterface = \"gw-be\"\nfilter = \"tcp port " << kHttpPort << " or tcp port "
        << kProxyProtocolPort << "\"\n"
        << "[http]\nports = [" << kHttpPort << "]\nproxy_protocol_ports = [" << kProxyProtocolPort << "]\n"
        << "[attribution]\ntrusted_proxies = [\"" << kProxyBackendSide << "/32\"]\n"
        << "[[attribution.account]]\ntype = \"header\"\nname = \"X-Account-Id\"\n"
        << "[[attribution.account]]\ntype = \"path\"\ntemplate = \"/v1/accounts/{account}/...\"\n"
        << "[[attribution.class]]\npath_prefix = \"/admin\"\nclass = \"admin\"\n"
        << "[[geo.database]]\npath = \"" << (dir_ / "city.mmdb").string() << "\"\n"
        << "[ship]\ncollectors = [\"" << kCollector << ":" << kIngestPort << "\"]\n"
        << "tls_ca = \"" << pki << "/ca.crt\"\ntls_cert = \"" << pki << "/agents/gw-agent.crt\"\n"
        << "tls_key = \"" << pki << "/agents/gw-agent.key\"\nspool_dir = \"" << (dir_ / "spool").string() << "\"\n"
        << "flush_window_ms = 200\n";
    agent_ = start("gw", {IPATTRIB_AGENT_BIN, "--config", (dir_ / "agent.toml").string()}, "agent.log");
    ASSERT_TRUE(eventually([&] { return log("agent.log").find("reading interface gw-be") != std::string::npos; }))
        << log("agent.log");
  }

  // --- ipattribctl -----------------------------------------------------------

  // Runs ipattribctl on the collector's host; its JSON output, or null
  // (a test failure unless `may_fail`: "unknown account" while waiting).
  json ctl(const std::string& args, bool may_fail = false) {
    std::string out;
    const int code = run("IPATTRIB_TOKEN=" + std::string(kToken) + " " + in("col") + IPATTRIBCTL_BIN +
                             " --url http://127.0.0.1:" + std::to_string(kApiPort) + " " + args,
                         &out);
    json doc = json::parse(out, nullptr, false);
    if (code != 0 || doc.is_discarded()) {
      if (may_fail) return json();
      ADD_FAILURE() << "ipattribctl " << args << ": exit " << code << ": " << out;
      return json();
    }
    return doc;
  }
  // (ip, class) -> count for one account, as ipattribctl lists it.
  std::map<std::pair<std::string, std::string>, std::uint64_t> account_ips(const std::string& account,
                                                                         std::set<std::string>* sources = nullptr,
                                                                         bool may_fail = false) {
    std::map<std::pair<std::string, std::string>, std::uint64_t> ips;
    const json doc = ctl("account " + account + " --format json", may_fail);
    if (!doc.is_object()) return ips;
    for (const json& s : doc["ips"]) {
      ips[{canonical_ip(s["ip"]), s["class"]}] = s["count"];
      if (sources != nullptr) sources->insert(s["ip_source"].get<std::string>());
    }
    return ips;
  }
  // (account, ip, class) for everything seen from `network`.
  std::set<std::tuple<std::string, std::string, std::string>> seen_from(const std::string& network) {
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    const json doc = ctl("ip " + network + " --format json");
    if (!doc.is_object()) return seen;
    for (const json& s : doc["accounts"]) seen.emplace(s["account"], canonical_ip(s["ip"]), s["class"]);
    return seen;
  }

  // --- traffic ---------------------------------------------------------------

  // A request straight to the backend from the gateway (as the proxy would
  // send it), under the account "probe", repeated until the collector has
  // it: then capture, shipping and ingest all work, and the clients'
  // requests cannot be sent before the capture is open.
  void probe_until_ledger_has_it(Proxy proxy) {
    const std::string probe =
        in("gw") + "curl -sS -o /dev/null -H 'X-Account-Id: probe' " +
        (proxy == Proxy::kHaproxyProxyProtocol
             ? "--haproxy-protocol http://" + std::string(kBackend) + ":" + std::to_string(kProxyProtocolPort)
             : "http://" + std::string(kBackend) + ":" + std::to_string(kHttpPort)) +
        "/probe";
    bool seen = false;
    for (int attempt = 0; attempt < 60 && !seen; ++attempt) {
      std::string out;
      ASSERT_EQ(run(probe, &out), 0) << out;
      seen = eventually(
          [&] {
            const bool has = !account_ips("probe", nullptr, true).empty();
            if (!has) std::this_thread::sleep_for(std::chrono::milliseconds(200));
            return has;
          },
          2);
    }
    ASSERT_TRUE(seen) << "the probe never reached the collector\n" << log("agent.log") << log("collector.log");
  }

  // One curl per session: its calls on one connection; each answer must be
  // 200, and only the first call may open a connection.
  void run_session(const Session& session) {
    const std::string base = session.ipv6 ? "https://[" + std::string(kApi6) + "]" : "https://" + std::string(kApi4);
    std::string command = in(session.host) + "curl --http1.1 -sS -g";
    bool first = true;
    for (const Call& call : session.calls) {
      if (!first) command += " --next";
      first = false;
      command += " --cacert " + (dir_ / "pki/ca.crt").string() + " -o /dev/null -w '%{http_code} %{num_connects}\\n'";
      if (call.method == "HEAD") {
        command += " --head";
      } else if (call.method != "GET") {
        command += " -X " + call.method + " --data-binary x";
      }
      if (!call.account_header.empty()) command += " -H " + quoted("X-Account-Id: " + call.account_header);
      if (!call.forwarded_for.empty()) command += " -H " + quoted("X-Forwarded-For: " + call.forwarded_for);
      command += " " + base + call.path;
    }
    std::string out;
    ASSERT_EQ(run(command, &out), 0) << command << "\n" << out;
    std::istringstream lines(out);
    int answers = 0;
    int connects = 0;
    for (std::string status, opened; lines >> status >> opened; ++answers) {
      EXPECT_EQ(status, "200") << session.host << ": " << out;
      connects += std::stoi(opened);
    }
    EXPECT_EQ(answers, static_cast<int>(session.calls.size())) << out;
    EXPECT_EQ(connects, 1) << "not one kept-alive connection: " << out;
  }

  // --- the scenario ------------------------------------------------------------

  // Every host's process, started in the order the traffic needs them;
  // returns once a request through the backend link reached the ledger.
  void start_hosts(Proxy proxy) {
    ASSERT_NO_FATAL_FAILURE(start_webhook_receiver());
    ASSERT_NO_FATAL_FAILURE(start_collector());
    start_backend();
    ASSERT_NO_FATAL_FAILURE(start_proxy(proxy));
    ASSERT_TRUE(eventually([&] {  // the proxy answers (nothing captures yet)
      return run(in("gw") + "curl -sf -o /dev/null --cacert " + (dir_ / "pki/ca.crt").string() + " https://" + kApi4 +
                 "/ready") == 0;
    })) << log("backend/error.log") << log("proxy/error.log") << log("haproxy.log");
    ASSERT_NO_FATAL_FAILURE(start_agent());
    ASSERT_NO_FATAL_FAILURE(probe_until_ledger_has_it(proxy));
  }

  // Every account's IPs: exactly its clients' real addresses, per class,
  // with the number of requests each made, found the way `ip_source` says.
  void expect_accounts_have_their_clients_real_addresses(const std::string& ip_source) {
    const Ledger expected = expected_ledger();
    ASSERT_EQ(expected.size(), 3u);
    const bool complete = eventually([&] {
      for (const auto& [account, ips] : expected) {
        if (account_ips(account, nullptr, true) != ips) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          return false;
        }
      }
      return true;
    });
    for (const auto& [account, ips] : expected) {
      std::set<std::string> sources;
      EXPECT_EQ(account_ips(account, &sources), ips) << "account " << account;
      EXPECT_EQ(sources, std::set<std::string>{ip_source}) << "account " << account;
    }
    ASSERT_TRUE(complete) << log("agent.log");
  }

  // Nothing else anywhere: the reverse lookups over every address hold the
  // clients' accesses and the probe, the proxy's address only under the
  // probe, the forged address not at all.
  void expect_nothing_else_in_the_ledger() {
    const Ledger expected = expected_ledger();
    std::set<std::tuple<std::string, std::string, std::string>> everything = seen_from("0.0.0.0/0");
    for (const auto& entry : seen_from("::/0")) everything.insert(entry);
    std::set<std::tuple<std::string, std::string, std::string>> wanted{{"probe", kProxyBackendSide, "access"}};
    for (const auto& [account, ips] : expected) {
      for (const auto& [key, count] : ips) wanted.emplace(account, key.first, key.second);
    }
    EXPECT_EQ(everything, wanted);
    EXPECT_TRUE(seen_from(kForged).empty());
  }

  // Exactly one alert, the Iran client's account under the Iran measure,
  // delivered to the webhook once.
  void expect_one_alert_delivered_once() {
    json alerts;
    ASSERT_TRUE(eventually([&] {
      alerts = ctl("alerts --limit 0 --format json")["alerts"];
      return alerts.is_array() && !alerts.empty();
    }));
    ASSERT_EQ(alerts.size(), 1u) << alerts.dump(2);
    const json& alert = alerts[0];
    EXPECT_EQ(alert["measure"]["id"], kIranMeasure) << alert.dump(2);
    EXPECT_EQ(alert["measure"]["severity"], "critical") << alert.dump(2);
    EXPECT_EQ(alert["account"], "initech") << alert.dump(2);
    EXPECT_EQ(canonical_ip(alert["ip"]), kIranClient) << alert.dump(2);
    EXPECT_EQ(alert["count"], requests_from(kIranClient, "initech")) << alert.dump(2);
    EXPECT_EQ(alert["gateway"], "gw-netns") << alert.dump(2);

    const std::int64_t id = alert["id"];
    ASSERT_TRUE(eventually([&] { return webhook_->tally().deliveries.count(id) == 1; }))
        << log("collector.log");
    ASSERT_TRUE(eventually([&] { return outbox_pending() == 0; })) << log("collector.log");
    const WebhookReceiver::Tally tally = webhook_->tally();
    EXPECT_EQ(tally.requests, 1);
    EXPECT_EQ(tally.bad_signatures, 0);
    EXPECT_EQ(tally.malformed, 0);
    ASSERT_EQ(tally.deliveries.size(), 1u);
    EXPECT_EQ(tally.deliveries.at(id), 1);
    EXPECT_EQ(tally.alerts.at(id)["account"], "initech");
  }

  void run_scenario(Proxy proxy, const std::string& ip_source) {
    ASSERT_NO_FATAL_FAILURE(start_hosts(proxy));
    for (const Session& session : sessions()) ASSERT_NO_FATAL_FAILURE(run_session(session));
    ASSERT_NO_FATAL_FAILURE(expect_accounts_have_their_clients_real_addresses(ip_source));
    expect_nothing_else_in_the_ledger();
    expect_one_alert_delivered_once();
    EXPECT_EQ(agent_->stop(SIGTERM), 0) << log("agent.log");
    EXPECT_EQ(collector_->stop(SIGTERM), 0) << log("collector.log");
  }

  std::int64_t outbox_pending() {
    std::string out;
    run(in("col") + "curl -sf http://127.0.0.1:" + std::to_string(kApiPort) + "/metrics", &out);
    const std::string name = "ipattrib_alerts_outbox_pending ";
    const std::size_t at = out.find("\n" + name);
    return at == std::string::npos ? -1 : std::stoll(out.substr(at + 1 + name.size()));
  }

  fs::path dir_;
  // Destroyed last: the namespaces go after every process in them.
  std::unique_ptr<NetworkNamespaces> net_;
  std::unique_ptr<WebhookReceiver> webhook_;
  std::unique_ptr<ChildProcess> collector_, backend_, proxy_, agent_;
};

TEST_F(NetnsE2eTest, NginxWithXForwardedForAttributesEveryAccountToItsClientsRealAddresses) {
  run_scenario(Proxy::kNginxForwardedFor, "x_forwarded_for");
}

TEST_F(NetnsE2eTest, HaproxyWithProxyProtocolAttributesEveryAccountToItsClientsRealAddresses) {
  run_scenario(Proxy::kHaproxyProxyProtocol, "proxy_protocol");
}

}  // namespace
}  // namespace ipattrib
