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

TEST(LedgerConfigTest, ReadsPostgresqlKeys) {
  ConfigErrors errors("collector.toml");
  const LedgerConfig c = parse(
      "store = \"postgresql\"\npostgresql_dsn = \"host=db.internal port=5433 dbname=ipattrib user=collector\"\n"
      "postgresql_password_file = \"/etc/ipattrib/pg-password\"\npostgresql_connections = 8\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.store, LedgerStoreKind::kPostgresql);
  EXPECT_EQ(c.postgresql_dsn, "host=db.internal port=5433 dbname=ipattrib user=collector");
  EXPECT_EQ(c.postgresql_password_file, "/etc/ipattrib/pg-password");
  EXPECT_EQ(c.postgresql_connections, 8u);
}

TEST(LedgerConfigTest, PostgresqlUriIsAccepted) {
  ConfigErrors errors("collector.toml");
  const LedgerConfig c =
      parse("store = \"postgresql\"\npostgresql_dsn = \"postgresql://collector@db/ipattrib\"\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.postgresql_dsn, "postgresql://collector@db/ipattrib");
}

// A password in the DSN would sit in a config file that gets copied,
// diffed and logged: refused, and the error does not repeat it.
TEST(LedgerConfigTest, PasswordInsideTheDsnIsRefusedWithoutEchoingIt) {
  for (const char* dsn : {"host=db password=s3cr3t-value dbname=x", "postgresql://u:s3cr3t-value@db/x"}) {
    ConfigErrors errors("collector.toml");
    parse(std::string("store = \"postgresql\"\npostgresql_dsn = \"") + dsn + "\"\n", errors);
    ASSERT_EQ(errors.errors().size(), 1u) << dsn << ": " << errors.to_string();
    const std::string text = errors.to_string();
    EXPECT_NE(text.find("collector.toml:2:"), std::string::npos) << text;
    EXPECT_NE(text.find("must not contain a password"), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
  }
}

TEST(LedgerConfigTest, PostgresqlNeedsAValidDsnAndSaneConnections) {
  ConfigErrors missing("collector.toml");
  parse("store = \"postgresql\"\n", missing);
  ASSERT_EQ(missing.errors().size(), 1u) << missing.to_string();
  EXPECT_NE(missing.to_string().find("needs postgresql_dsn"), std::string::npos);

  ConfigErrors bad("collector.toml");
  parse("store = \"postgresql\"\npostgresql_dsn = \"host='unterminated\"\npostgresql_connections = 0\n", bad);
  ASSERT_EQ(bad.errors().size(), 2u) << bad.to_string();
  EXPECT_NE(bad.to_string().find("collector.toml:2: [ledger] postgresql_dsn is not a libpq connection string"),
            std::string::npos)
      << bad.to_string();
  EXPECT_NE(bad.to_string().find("collector.toml:3:"), std::string::npos) << bad.to_string();
}

}  // namespace
}  // namespace ipattrib::collector
