// JsonLinesSink on a real file: one parseable line per alert, appended
// after what was there, created mode 0600.
#include "collector/alerts/sinks/json_lines_sink.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "collector/alerts/alert_json.h"
#include "tests/unit/collector/alerts/sample_alert.h"

namespace ipattrib::collector {
namespace {

using testing::sample_alert;

class JsonLinesSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "jsonl-sink-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    config_.name = "file";
    config_.path = dir_ + "/alerts.jsonl";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::vector<std::string> lines() {
    std::ifstream in(config_.path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::string dir_;
  FileSinkConfig config_;
};

TEST_F(JsonLinesSinkTest, AppendsOneJsonLinePerAlertToAPrivateFile) {
  std::unique_ptr<AlertSink> sink;
  ASSERT_TRUE(open_json_lines_sink(config_, sink));
  EXPECT_EQ(sink->name(), "file");
  EXPECT_FALSE(std::filesystem::exists(config_.path)) << "nothing is created before the first alert";
  const Alert first = sample_alert(1), second = sample_alert(2, "other\naccount");
  ASSERT_TRUE(sink->deliver(first));
  ASSERT_TRUE(sink->deliver(second));

  struct stat st {};
  ASSERT_EQ(::stat(config_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 2u) << "a newline inside a value is escaped, not a line break";
  EXPECT_EQ(nlohmann::json::parse(got[0]), alert_to_json(first));
  EXPECT_EQ(nlohmann::json::parse(got[1]), alert_to_json(second));
}

TEST_F(JsonLinesSinkTest, KeepsWhatTheFileHeldAndFollowsARotation) {
  std::ofstream(config_.path) << "{\"earlier\":true}\n";
  std::unique_ptr<AlertSink> sink;
  ASSERT_TRUE(open_json_lines_sink(config_, sink));
  ASSERT_TRUE(sink->deliver(sample_alert(1)));
  EXPECT_EQ(lines().size(), 2u);
  EXPECT_EQ(lines()[0], "{\"earlier\":true}");

  std::filesystem::rename(config_.path, config_.path + ".1");
  ASSERT_TRUE(sink->deliver(sample_alert(2)));
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines()[0])["id"], 2);
}

TEST_F(JsonLinesSinkTest, UnwritablePathIsAnError) {
  config_.path = dir_ + "/no-such-dir/alerts.jsonl";
  std::unique_ptr<AlertSink> sink;
  ASSERT_TRUE(open_json_lines_sink(config_, sink));
  const Status s = sink->deliver(sample_alert(1));
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("no-such-dir"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ipattrib::collector
