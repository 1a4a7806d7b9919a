// A temporary directory for policy tests, with a small iso-codes data set
// of its own so loader tests do not depend on the machine's copy.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ipattrib::collector {

class PolicyTestDir {
 public:
  PolicyTestDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "policy-test-XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
    std::filesystem::create_directory(iso_dir());
    write("iso/iso_3166-1.json",
          R"({"3166-1": [{"alpha_2": "CU", "name": "Cuba"}, {"alpha_2": "IR", "name": "Iran"},
              {"alpha_2": "RU", "name": "Russia"}, {"alpha_2": "UA", "name": "Ukraine"},
              {"alpha_2": "US", "name": "United States"}, {"alpha_2": "SY", "name": "Syria"}]})");
    write("iso/iso_3166-2.json",
          R"({"3166-2": [{"code": "UA-43", "name": "Krym"}, {"code": "UA-40", "name": "Sevastopol"},
              {"code": "UA-14", "name": "Donetska"}, {"code": "US-CA", "name": "California"}]})");
  }
  ~PolicyTestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  PolicyTestDir(const PolicyTestDir&) = delete;
  PolicyTestDir& operator=(const PolicyTestDir&) = delete;

  // Writes `text` to `name` under the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  const std::string& path() const { return path_; }
  std::string iso_dir() const { return path_ + "/iso"; }

 private:
  std::string path_;
};

}  // namespace ipattrib::collector
