#include "agent/capture/capture_config.h"

#include <gtest/gtest.h>

#include <string>

namespace ipattrib::agent {
namespace {

CaptureConfig parse(const std::string& toml_text, ConfigErrors& errors) {
  const toml::table root = toml::parse(toml_text);
  return parse_capture_config(*root["capture"].as_table(), errors);
}

TEST(CaptureConfigTest, DefaultsWhenSectionIsEmpty) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse("[capture]\n", errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_TRUE(c.interface.empty());
  EXPECT_TRUE(c.read_file.empty());
  EXPECT_TRUE(c.filter.empty());
  EXPECT_EQ(c.snaplen, 65535);
  EXPECT_FALSE(c.promiscuous);
  EXPECT_TRUE(c.immediate);
  EXPECT_EQ(c.buffer_size_bytes, 32 << 20);
  EXPECT_EQ(c.read_timeout_ms, 100);
}

TEST(CaptureConfigTest, EveryKeyIsRead) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse(
      "[capture]\ninterface = \"eth1\"\nfilter = \"tcp port 8080\"\nsnaplen = 9000\npromiscuous = true\n"
      "immediate = false\nbuffer_size_mb = 256\nread_timeout_ms = 250\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  EXPECT_EQ(c.interface, "eth1");
  EXPECT_EQ(c.filter, "tcp port 8080");
  EXPECT_EQ(c.snaplen, 9000);
  EXPECT_TRUE(c.promiscuous);
  EXPECT_FALSE(c.immediate);
  EXPECT_EQ(c.buffer_size_bytes, 256 << 20);
  EXPECT_EQ(c.read_timeout_ms, 250);
}

TEST(CaptureConfigTest, ReadFile) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse("[capture]\nread = \"/var/tmp/x.pcapng\"\n", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.read_file, "/var/tmp/x.pcapng");
}

TEST(CaptureConfigTest, FileReaderIsAutoOrLibpcap) {
  ConfigErrors errors("agent.toml");
  EXPECT_EQ(parse("[capture]\n", errors).file_reader, FileReader::kAuto);
  EXPECT_EQ(parse("[capture]\nfile_reader = \"auto\"\n", errors).file_reader, FileReader::kAuto);
  EXPECT_EQ(parse("[capture]\nfile_reader = \"libpcap\"\n", errors).file_reader, FileReader::kLibpcap);
  EXPECT_EQ(parse("[capture]\nfile_reader = \"mmap\"\n", errors).file_reader, FileReader::kMmap);
  EXPECT_TRUE(errors.empty()) << errors.to_string();
  parse("[capture]\nread = \"x.pcap\"\nfile_reader = \"map\"\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 3u);
  EXPECT_NE(errors.errors()[0].message.find("file_reader must be \"auto\", \"mmap\" or \"libpcap\""),
            std::string::npos);
}

TEST(CaptureConfigTest, InterfaceAndReadAreExclusive) {
  ConfigErrors errors("agent.toml");
  parse("[capture]\ninterface = \"eth0\"\nread = \"x.pcap\"\n", errors);
  ASSERT_EQ(errors.errors().size(), 1u);
  EXPECT_EQ(errors.errors()[0].line, 3u);
  EXPECT_NE(errors.errors()[0].message.find("not both"), std::string::npos);
}

TEST(CaptureConfigTest, BadValuesAreReportedWithTheirLine) {
  ConfigErrors errors("agent.toml");
  const CaptureConfig c = parse(
      "[capture]\nsnaplen = 20\nbuffer_size_mb = 4096\npromiscuous = \"yes\"\nread_timeout_ms = 0\nsnaplenn = 5\n",
      errors);
  ASSERT_EQ(errors.errors().size(), 5u) << errors.to_string();
  const std::string all = errors.to_string();
  EXPECT_NE(all.find("agent.toml:2:"), std::string::npos);
  EXPECT_NE(all.find("agent.toml:3:"), std::string::npos);
  EXPECT_NE(all.find("agent.toml:4:"), std::string::npos);
  EXPECT_NE(all.find("agent.toml:5:"), std::string::npos);
  EXPECT_NE(all.find("snaplenn"), std::string::npos);
  EXPECT_EQ(c.snaplen, 65535);  // rejected values leave defaults
  EXPECT_EQ(c.buffer_size_bytes, 32 << 20);
}

}  // namespace
}  // namespace ipattrib::agent
