#include "tests/unit/ctl/ctl_runner.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/unit/collector/api/api_test_server.h"

namespace ipattrib::ctl::testing {
namespace {

std::string shell_quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q.push_back(c);
    }
  }
  return q + "'";
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

CtlRun run_ctl(const std::string& url, const std::string& dir, const std::vector<std::string>& args,
               const std::string& env_prefix) {
  std::string command = "env IPATTRIB_URL=" + shell_quote(url) +
                        " IPATTRIB_TOKEN=" + shell_quote(collector::testing::kTestToken) + " " + env_prefix + " " +
                        shell_quote(IPATTRIBCTL_PATH);
  for (const std::string& a : args) command += " " + shell_quote(a);
  command += " >" + dir + "/out 2>" + dir + "/err </dev/null";
  const int status = std::system(command.c_str());
  CtlRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(dir + "/out");
  run.err = read_file(dir + "/err");
  return run;
}

}  // namespace ipattrib::ctl::testing
