#include "collector/ledger/ledger_config.h"

#include <gtest/gtest.h>

namespace ipattrib::collector {
namespace {

LedgerConfig parse(std::string_view text, ConfigErrors& errors) {
  const toml::table table = toml::parse(text);
  return parse_ledger_config(table, errors);
}

TEST(LedgerConfigTest, EmptySectionGivesDefaults) {
  ConfigErrors errors("collector.toml");
  const LedgerConfig c = parse("", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.store, LedgerStoreKind::kSqlite);
  EXPECT_EQ(c.sqlite_path, "var/ledger.sqlite3");
  EXPECT_EQ(c.busy_timeout_ms, 5000u);
  EXPECT_EQ(c.retention_days, 730u);
  EXPECT_EQ(c.retention_interval_s, 3600u);
}

TEST(LedgerConfigTest, ReadsEveryKey) {
  ConfigErrors errors("collector.toml");
  const LedgerConfig c = parse(
      "store = \"sqlite\"\nsqlite_path = \"/var/lib/ipattrib/ledger.db\"\nbusy_timeout_ms = 100\n"
      "retention_days = 0\nretention_interval_s = 60\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.sqlite_path, "/var/lib/ipattrib/ledger.db");
  EXPECT_EQ(c.busy_timeout_ms, 100u);
  EXPECT_EQ(c.retention_days, 0u);
  EXPECT_EQ(c.retention_interval_s, 60u);
}

TEST(LedgerConfigTest, ReportsBadValuesWithLines) {
  ConfigErrors errors("collector.toml");
  parse("store = \"mysql\"\nsqlite_path = \"\"\nretention_days = -1\nretention_interval_s = 1\nretension_days = 3\n",
        errors);
  ASSERT_EQ(errors.errors().size(), 5u) << errors.to_string();
  const std::string text = errors.to_string();
  EXPECT_NE(text.find("collector.toml:1:"), std::string::npos) << text;
  EXPECT_NE(text.find("mysql"), std::string::npos) << text;
  EXPECT_NE(text.find("retension_days"), std::string::npos) << text;
}

}  // namespace
}  // namespace ipattrib::collector
