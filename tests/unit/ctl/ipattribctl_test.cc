// ipattribctl as an analyst runs it: the real binary against a real query API
// server over a real SQLite ledger. The server's max_page is small so every
// subcommand has to follow paging to get complete answers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collector/api/api_server.h"
#include "tests/unit/collector/api/api_test_server.h"
#include "tests/unit/ctl/ctl_runner.h"

namespace ipattrib::ctl {
namespace {

using collector::testing::ApiTestServer;
using nlohmann::json;
using testing::CtlRun;
using testing::lines_of;
using testing::read_file;
using testing::run_ctl;

collector::ApiConfig small_pages() {
  collector::ApiConfig config;
  config.max_page = 7;
  return config;
}

class IpattribctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  CtlRun ctl(const std::vector<std::string>& args, const std::string& env_prefix = "") {
    return run_ctl(server_.url(), dir_, args, env_prefix);
  }

  ApiTestServer server_{small_pages()};
  std::string dir_;
};

TEST_F(IpattribctlTest, AccountPrintsAnAlignedTable) {
  CtlRun r = ctl({"account", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("IP ", 0), 0u);
  for (const char* header :
       {"CLASS", "FIRST SEEN", "LAST SEEN", "COUNT", "COUNTRY", "SUBDIVISION", "ASN", "GATEWAYS"}) {
    EXPECT_NE(lines[0].find(header), std::string::npos) << header;
  }
  const std::size_t class_column = lines[0].find("CLASS");
  const std::size_t first_seen_column = lines[0].find("FIRST SEEN");
  bool saw_admin = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string cls = lines[i].substr(class_column, 6);
    EXPECT_TRUE(cls == "access" || cls.rfind("admin ", 0) == 0) << lines[i];
    EXPECT_EQ(lines[i].substr(first_seen_column, 4), "2023") << lines[i];
    if (cls.rfind("admin", 0) == 0) {
      saw_admin = true;
      EXPECT_NE(lines[i].find("DE-BE"), std::string::npos);
      EXPECT_NE(lines[i].find("64500"), std::string::npos);
      EXPECT_NE(lines[i].find("gw2"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_admin);
}

TEST_F(IpattribctlTest, AccountJsonAndCsv) {
  CtlRun j = ctl({"account", "acme", "--format", "json", "--class", "access"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["account"], "acme");
  EXPECT_EQ(doc["ips"].size(), 3u);
  CtlRun c = ctl({"account", "acme", "--format", "csv", "--since", "2023-11-14T22:13:22Z", "--country", "US"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto lines = lines_of(c.out);
  ASSERT_EQ(lines.size(), 2u) << c.out;  // 10.1.2.3 (US, after since); 203.0.113.5 access ended before
  EXPECT_EQ(lines[0], "ip,class,first_seen,last_seen,count,country,subdivision,asn,gateways\r");
  EXPECT_EQ(lines[1].rfind("10.1.2.3,access,", 0), 0u) << lines[1];
}

TEST_F(IpattribctlTest, AccessesFollowsCursorsToTheEnd) {
  CtlRun r = ctl({"accesses", "acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1u + 255u);
  EXPECT_EQ(lines[0].rfind("TIME", 0), 0u);
  EXPECT_EQ(lines[1].rfind("2023-11-14T22:13:21.000Z  203.0.113.5", 0), 0u) << lines[1];
  CtlRun limited = ctl({"accesses", "acme", "--limit", "10", "--format", "json"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(json::parse(limited.out)["accesses"].size(), 10u);
  CtlRun v6 = ctl({"accesses", "acme", "--ip", "2001:db8::1", "--format", "csv"});
  ASSERT_EQ(v6.exit_code, 0) << v6.err;
  EXPECT_EQ(lines_of(v6.out).size(), 2u);
}

TEST_F(IpattribctlTest, IpLooksUpAddressesAndNetworks) {
  CtlRun r = ctl({"ip", "10.0.0.0/8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0].rfind("ACCOUNT", 0), 0u);
  CtlRun v6 = ctl({"ip", "2001:db8::/32", "--format", "json"});
  ASSERT_EQ(v6.exit_code, 0) << v6.err;
  json doc = json::parse(v6.out);
  EXPECT_EQ(doc["network"], "2001:db8::/32");
  EXPECT_EQ(doc["accounts"].size(), 2u);
  CtlRun none = ctl({"ip", "192.0.2.1"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(lines_of(none.out).size(), 1u);  // header only
  CtlRun bad = ctl({"ip", "10.0.0.0/99"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not an IP address or CIDR"), std::string::npos) << bad.err;
}

TEST_F(IpattribctlTest, ExportWritesCsvOrJson) {
  const std::string file = dir_ + "/acme.csv";
  CtlRun r = ctl({"export", "acme", "-o", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string csv = read_file(file);
  EXPECT_EQ(csv.rfind("account,ip,class,access_time,", 0), 0u);
  EXPECT_EQ(lines_of(csv).size(), 1u + 255u);
  CtlRun j = ctl({"export", "acme", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out)["accesses"].size(), 255u);
}

TEST_F(IpattribctlTest, HostileAccountIdsReachTheServerIntact) {
  for (const std::string& account : collector::testing::hostile_accounts()) {
    if (account.find('\0') != std::string::npos) continue;  // argv cannot carry NUL
    CtlRun r = ctl({"account", account, "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << account << ": " << r.err;
    EXPECT_EQ(json::parse(r.out)["account"], account);
  }
  CtlRun table = ctl({"ip", "198.51.100.9"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.find('\x1b'), std::string::npos) << "terminal escapes must not reach the terminal";
  EXPECT_NE(table.out.find("line?break?[31m"), std::string::npos) << table.out;
}

TEST_F(IpattribctlTest, ExitCodes) {
  CtlRun unknown = ctl({"account", "nobody"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("unknown account"), std::string::npos) << unknown.err;
  EXPECT_EQ(ctl({"accesses", "nobody"}).exit_code, 3);
  EXPECT_EQ(ctl({"export", "nobody"}).exit_code, 3);

  CtlRun bad_token = ctl({"account", "acme"}, "IPATTRIB_TOKEN=wrong");
  EXPECT_EQ(bad_token.exit_code, 1);
  EXPECT_NE(bad_token.err.find("bearer token"), std::string::npos) << bad_token.err;
  EXPECT_EQ(bad_token.err.find("wrong"), std::string::npos) << "the token is never printed";
  EXPECT_EQ(ctl({"--token", "wrong", "account", "acme"}).exit_code, 1);

  EXPECT_EQ(ctl({}).exit_code, 2);
  EXPECT_EQ(ctl({"account"}).exit_code, 2);
  EXPECT_EQ(ctl({"account", "acme", "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(ctl({"accesses", "acme", "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(ctl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(ctl({"--help"}).exit_code, 0);

  CtlRun bad_time = ctl({"account", "acme", "--since", "yesterday"});
  EXPECT_EQ(bad_time.exit_code, 1);
  EXPECT_NE(bad_time.err.find("since"), std::string::npos);
}

TEST_F(IpattribctlTest, UrlFromFlagOrEnvironment) {
  // A closed port: the flag wins over the environment.
  CtlRun refused = ctl({"--url", "http://127.0.0.1:1", "account", "acme"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("cannot reach"), std::string::npos) << refused.err;
  CtlRun env_refused = ctl({"account", "acme"}, "IPATTRIB_URL=http://127.0.0.1:1");
  EXPECT_EQ(env_refused.exit_code, 1);
  CtlRun bad_url = ctl({"--url", "ftp://x", "account", "acme"});
  EXPECT_EQ(bad_url.exit_code, 1);
  EXPECT_NE(bad_url.err.find("http://"), std::string::npos);
  CtlRun flag = ctl({"--url", server_.url() + "/", "account", "acme"}, "IPATTRIB_URL=http://127.0.0.1:1");
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
}

// HTTPS: a self-signed certificate for 127.0.0.1 made with the openssl tool;
// ipattribctl verifies it against --ca-cert and refuses it without.
TEST(IpattribctlTlsTest, VerifiesTheServerCertificate) {
  std::string pattern = (std::filesystem::temp_directory_path() / "ctl-tls-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  const std::string make_cert =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0);
  collector::ApiConfig config;
  config.tls_cert = dir + "/cert.pem";
  config.tls_key = dir + "/key.pem";
  {
    ApiTestServer server(config);
    ASSERT_EQ(server.url().rfind("https://", 0), 0u);
    CtlRun ok = run_ctl(server.url(), dir, {"--ca-cert", dir + "/cert.pem", "account", "acme", "--format", "json"});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(json::parse(ok.out)["ips"].size(), 4u);
    CtlRun untrusted = run_ctl(server.url(), dir, {"account", "acme"});
    EXPECT_EQ(untrusted.exit_code, 1);
    EXPECT_NE(untrusted.err.find("certificate is not trusted"), std::string::npos) << untrusted.err;
    CtlRun plain = run_ctl("http://127.0.0.1:" + std::to_string(server.port()), dir, {"account", "acme"});
    EXPECT_EQ(plain.exit_code, 1);
  }
  std::unique_ptr<httplib::Server> server;
  config.tls_key = dir + "/missing.pem";
  EXPECT_FALSE(collector::make_api_server(config, server));
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace ipattrib::ctl
