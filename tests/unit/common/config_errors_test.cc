#include "ipattrib/config_errors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace ipattrib {
namespace {

toml::table parse(std::string_view text) { return toml::parse(text); }

TEST(ConfigErrorsTest, ReportsWrongTypeWithLine) {
  auto table = parse("a = 1\nname = 5\n");
  ConfigErrors errors("agent.toml");
  EXPECT_FALSE(errors.get_string(table, "name"));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].to_string(), "agent.toml:2: 'name' must be a string");
}

TEST(ConfigErrorsTest, AbsentKeyIsNotAnError) {
  auto table = parse("a = 1\n");
  ConfigErrors errors("x.toml");
  EXPECT_FALSE(errors.get_int(table, "missing", 0, 10));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(errors.get_int(table, "a", 0, 10), 1);
}

TEST(ConfigErrorsTest, RangeIsChecked) {
  auto table = parse("\n\nworkers = 900\n");
  ConfigErrors errors("x.toml");
  EXPECT_FALSE(errors.get_int(table, "workers", 1, 64));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 3u);
}

TEST(ConfigErrorsTest, UnknownKeysAreRejected) {
  auto table = parse("known = 1\ntypo = 2\n");
  ConfigErrors errors("x.toml");
  errors.reject_unknown_keys(table, {"known"}, "[capture]");
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].to_string(), "x.toml:2: unknown key 'typo' in [capture]");
}

TEST(ConfigErrorsTest, StringArrayRejectsMixedTypes) {
  auto table = parse("list = [\"a\", 2]\nok = [\"x\", \"y\"]\n");
  ConfigErrors errors("x.toml");
  EXPECT_FALSE(errors.get_string_array(table, "list"));
  auto ok = errors.get_string_array(table, "ok");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ(errors.errors().size(), 1u);
}

TEST(ConfigErrorsTest, SyntaxErrorCarriesLine) {
  const std::string path = testing::TempDir() + "/bad.toml";
  {
    std::ofstream out(path);
    out << "a = 1\nb = \n";
  }
  ConfigErrors errors(path);
  EXPECT_FALSE(parse_toml_file(path, errors));
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 2u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ipattrib
