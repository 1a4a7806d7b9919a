// RFC 3339 times and CSV cells as the API and ipattribctl write them.
#include <gtest/gtest.h>

#include "collector/api/csv_row.h"
#include "collector/api/rfc3339.h"

namespace ipattrib::collector {
namespace {

TEST(Rfc3339Test, FormatsUtcMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(INT64_MAX), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(INT64_MIN), "0000-01-01T00:00:00.000Z");
}

TEST(Rfc3339Test, ParsesRfc3339AndEpochMs) {
  std::int64_t t = 0;
  ASSERT_TRUE(parse_time_parameter("2023-11-14T22:13:20.123Z", t));
  EXPECT_EQ(t, 1700000000123);
  ASSERT_TRUE(parse_time_parameter("2023-11-14T23:13:20.1234567+01:00", t));
  EXPECT_EQ(t, 1700000000123);
  ASSERT_TRUE(parse_time_parameter("2023-11-14t17:13:20-05:00", t));
  EXPECT_EQ(t, 1700000000000);
  ASSERT_TRUE(parse_time_parameter("2023-11-14 22:13:20.5z", t));
  EXPECT_EQ(t, 1700000000500);
  ASSERT_TRUE(parse_time_parameter("1700000000123", t));
  EXPECT_EQ(t, 1700000000123);
  ASSERT_TRUE(parse_time_parameter("-5", t));
  EXPECT_EQ(t, -5);
  for (std::int64_t ms :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1700000000123}, std::int64_t{253402300799999}}) {
    ASSERT_TRUE(parse_time_parameter(format_rfc3339_ms(ms), t));
    EXPECT_EQ(t, ms);
  }
}

TEST(Rfc3339Test, RejectsMalformed) {
  std::int64_t t = 42;
  for (const char* bad :
       {"", "yesterday", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2023-11-14T24:00:00Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20+0100",
        "99999999999999999999", "1-2", "2023-11-14T22:13:20+24:00"}) {
    EXPECT_FALSE(parse_time_parameter(bad, t)) << bad;
  }
  EXPECT_EQ(t, 42);
  EXPECT_TRUE(parse_time_parameter("2024-02-29T00:00:00Z", t));
}

TEST(CsvCellTest, QuotesPerRfc4180) {
  EXPECT_EQ(csv_cell("plain"), "plain");
  EXPECT_EQ(csv_cell(""), "");
  EXPECT_EQ(csv_cell("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_cell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_cell("cr\r"), "\"cr\r\"");
}

TEST(CsvCellTest, DisarmsFormulaStarts) {
  EXPECT_EQ(csv_cell("=1+1"), "'=1+1");
  EXPECT_EQ(csv_cell("+1"), "'+1");
  EXPECT_EQ(csv_cell("-1"), "'-1");
  EXPECT_EQ(csv_cell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(csv_cell("\t=1"), "'\t=1");
  EXPECT_EQ(csv_cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
  EXPECT_EQ(csv_cell("a=1"), "a=1");
}

TEST(CsvCellTest, RowsEndWithCrlf) {
  std::string out;
  append_csv_row(out, {"a", "b,c", ""});
  append_csv_row(out, {"x"});
  EXPECT_EQ(out, "a,\"b,c\",\r\nx\r\n");
}

}  // namespace
}  // namespace ipattrib::collector
