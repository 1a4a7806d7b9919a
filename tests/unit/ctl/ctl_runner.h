// Runs the real ipattribctl binary as an analyst would, with the collector's
// URL and the test token in its environment, and captures what it printed.
// Shared by the ipattribctl tests.
#pragma once

#include <string>
#include <vector>

namespace ipattrib::ctl::testing {

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// env_prefix ("NAME=value ...") overrides or adds environment variables;
// stdout and stderr land in files under dir.
CtlRun run_ctl(const std::string& url, const std::string& dir, const std::vector<std::string>& args,
               const std::string& env_prefix = "");

std::string read_file(const std::string& path);
std::vector<std::string> lines_of(const std::string& text);

}  // namespace ipattrib::ctl::testing
