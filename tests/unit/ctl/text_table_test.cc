// ipattribctl's table output: alignment by display width, no terminal control bytes.
#include "ctl/text_table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ipattrib::ctl {
namespace {

TEST(TextTableTest, AlignsColumnsByDisplayWidth) {
  TextTable table({"A", "BB", "C"});
  table.add_row({"x\xc3\xbc", "1", ""});
  table.add_row({"long", "22"});
  std::ostringstream out;
  table.write(out);
  EXPECT_EQ(out.str(),
            "A     BB  C\n"
            "x\xc3\xbc    1\n"
            "long  22\n");
}

TEST(TextTableTest, ControlBytesBecomeQuestionMarks) {
  EXPECT_EQ(printable("a\x1b[2Jb\r\n\x7f"), "a?[2Jb???");
  EXPECT_EQ(display_width("\xe6\x97\xa5\xe6\x9c\xac"), 2u);
}

}  // namespace
}  // namespace ipattrib::ctl
