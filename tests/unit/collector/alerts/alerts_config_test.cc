#include "collector/alerts/alerts_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ipattrib::collector {
namespace {

class AlertsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "alerts-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    secret_ = dir_ + "/secret";
    std::ofstream(secret_) << "k";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  AlertsConfig parse(const std::string& text, ConfigErrors& errors) {
    toml::table table = toml::parse(std::string_view(text), std::string_view("collector.toml"));
    return parse_alerts_config(*table["alerts"].as_table(), errors);
  }
  // Parses text and returns all errors as "file:line: message" lines.
  std::string errors_of(const std::string& text) {
    ConfigErrors errors("collector.toml");
    parse(text, errors);
    return errors.to_string();
  }

  std::string dir_;
  std::string secret_;
};

TEST_F(AlertsConfigTest, DefaultsWithNoSinks) {
  ConfigErrors errors;
  const AlertsConfig c = parse("[alerts]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.sqlite_path, "");
  EXPECT_EQ(c.dedup_window_s, 3600u);
  EXPECT_EQ(c.retry_base_ms, 1000u);
  EXPECT_EQ(c.retry_max_ms, 300000u);
  EXPECT_TRUE(c.sink_names().empty());
}

TEST_F(AlertsConfigTest, ReadsEveryKeyAndEverySink) {
  ConfigErrors errors;
  const AlertsConfig c = parse(R"([alerts]
sqlite_path = "/var/lib/ipattrib/alerts.sqlite3"
dedup_window_s = 600
retry_base_ms = 250
retry_max_ms = 60000

[[alerts.webhook]]
name = "soc"
url = "https://soc.example.com/ipattrib"
secret_file = ")" + secret_ + R"("
ca_file = ")" + secret_ + R"("
timeout_ms = 2000

[[alerts.webhook]]
name = "backup_hook"
url = "http://127.0.0.1:9000/"
secret_file = ")" + secret_ + R"("

[[alerts.syslog]]
name = "local_syslog"

[[alerts.syslog]]
name = "siem"
address = "tcp:siem.example.com:6514"
app_name = "ipattrib-eu"
facility = "auth"

[[alerts.file]]
name = "audit"
path = "/var/log/ipattrib/alerts.jsonl"
)",
                               errors);
  ASSERT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.sqlite_path, "/var/lib/ipattrib/alerts.sqlite3");
  EXPECT_EQ(c.dedup_window_s, 600u);
  EXPECT_EQ(c.retry_base_ms, 250u);
  EXPECT_EQ(c.retry_max_ms, 60000u);
  ASSERT_EQ(c.webhooks.size(), 2u);
  EXPECT_EQ(c.webhooks[0].url, "https://soc.example.com/ipattrib");
  EXPECT_EQ(c.webhooks[0].secret_file, secret_);
  EXPECT_EQ(c.webhooks[0].ca_file, secret_);
  EXPECT_EQ(c.webhooks[0].timeout_ms, 2000u);
  EXPECT_EQ(c.webhooks[1].timeout_ms, 5000u);
  ASSERT_EQ(c.syslogs.size(), 2u);
  EXPECT_EQ(c.syslogs[0].address, "unix:/dev/log");
  EXPECT_EQ(c.syslogs[0].app_name, "ipattrib");
  EXPECT_EQ(c.syslogs[0].facility, "local0");
  EXPECT_EQ(c.syslogs[1].address, "tcp:siem.example.com:6514");
  EXPECT_EQ(c.syslogs[1].app_name, "ipattrib-eu");
  EXPECT_EQ(c.syslogs[1].facility, "auth");
  ASSERT_EQ(c.files.size(), 1u);
  EXPECT_EQ(c.files[0].path, "/var/log/ipattrib/alerts.jsonl");
  EXPECT_EQ(c.sink_names(), (std::vector<std::string>{"soc", "backup_hook", "local_syslog", "siem", "audit"}));
}

TEST_F(AlertsConfigTest, UnknownKeysAreRejectedWithTheirLine) {
  const std::string text = errors_of(
      "[alerts]\n"
      "dedup_window = 5\n"
      "[[alerts.syslog]]\n"
      "name = \"s\"\n"
      "adress = \"udp:h:514\"\n"
      "[[alerts.pager]]\n"
      "name = \"p\"\n");
  EXPECT_NE(text.find("collector.toml:2:"), std::string::npos) << text;
  EXPECT_NE(text.find("dedup_window"), std::string::npos) << text;
  EXPECT_NE(text.find("collector.toml:5:"), std::string::npos) << text;
  EXPECT_NE(text.find("adress"), std::string::npos) << text;
  EXPECT_NE(text.find("pager"), std::string::npos) << text;
}

TEST_F(AlertsConfigTest, SinkNamesAreRequiredPlainAndUnique) {
  const std::string text = errors_of(
      "[alerts]\n"
      "[[alerts.file]]\n"
      "name = \"a\"\n"
      "path = \"/tmp/a\"\n"
      "[[alerts.syslog]]\n"
      "name = \"a\"\n"
      "[[alerts.syslog]]\n"
      "name = \"bad name!\"\n"
      "[[alerts.file]]\n"
      "path = \"/tmp/b\"\n");
  EXPECT_NE(text.find("collector.toml:6: [[alerts.syslog]] name 'a' is used by another sink"), std::string::npos)
      << text;
  EXPECT_NE(text.find("collector.toml:8:"), std::string::npos) << text;
  EXPECT_NE(text.find("[[alerts.file]] name is required"), std::string::npos) << text;
}

TEST_F(AlertsConfigTest, SinkValuesAreChecked) {
  const std::string text = errors_of(
      "[alerts]\n"
      "retry_base_ms = 5000\n"
      "retry_max_ms = 1000\n"
      "[[alerts.webhook]]\n"
      "name = \"w\"\n"
      "url = \"ftp://x/\"\n"
      "secret_file = \"" +
      dir_ +
      "/missing\"\n"
      "timeout_ms = 5\n"
      "[[alerts.webhook]]\n"
      "name = \"nosecret\"\n"
      "url = \"http://x/\"\n"
      "[[alerts.syslog]]\n"
      "name = \"s\"\n"
      "address = \"udp:nohostport\"\n"
      "app_name = \"has space\"\n"
      "facility = \"kern\"\n"
      "[[alerts.file]]\n"
      "name = \"f\"\n");
  for (const char* expected : {"collector.toml:3: [alerts] retry_max_ms must be at least retry_base_ms",
                               "collector.toml:6:", "collector.toml:7: [[alerts.webhook]] secret_file: cannot read",
                               "collector.toml:8:", "[[alerts.webhook]] secret_file is required",
                               "collector.toml:14: [[alerts.syslog]] address",
                               "collector.toml:15:", "collector.toml:16:", "[[alerts.file]] path is required"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST_F(AlertsConfigTest, SinksMustBeArraysOfTables) {
  const std::string text = errors_of("[alerts]\nwebhook = \"http://x\"\nfile = [1]\n");
  EXPECT_NE(text.find("collector.toml:2: [alerts] webhook must be an array of tables"), std::string::npos) << text;
  EXPECT_NE(text.find("collector.toml:3:"), std::string::npos) << text;
}

}  // namespace
}  // namespace ipattrib::collector
