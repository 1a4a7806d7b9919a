// A throw-away PKI for TLS tests, made by scripts/make-pki.sh (the same script
// the quickstart uses) in a fresh temporary directory removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/tls/tls_context.h"

namespace ipattrib::tls::testing {

class TestPki {
 public:
  explicit TestPki(const std::vector<std::string>& agents) {
    std::string templ = (std::filesystem::temp_directory_path() / "ipattrib-pki-XXXXXX").string();
    char* made = mkdtemp(templ.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    dir_ = made;
    std::string command = std::string(IPATTRIB_SOURCE_DIR) + "/scripts/make-pki.sh " + dir_ + "/pki";
    for (const std::string& agent : agents) command += " --agent " + agent;
    command += " >/dev/null";
    ok_ = std::system(command.c_str()) == 0;
    if (!ok_) ADD_FAILURE() << "make-pki.sh failed: " << command;
  }
  ~TestPki() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  bool ok() const { return ok_; }
  // A scratch directory next to the PKI, removed with it.
  const std::string& dir() const { return dir_; }
  TlsFiles server() const { return {pki() + "/ca.crt", pki() + "/collector.crt", pki() + "/collector.key"}; }
  TlsFiles agent(const std::string& name) const {
    return {pki() + "/ca.crt", pki() + "/agents/" + name + ".crt", pki() + "/agents/" + name + ".key"};
  }

 private:
  std::string pki() const { return dir_ + "/pki"; }
  std::string dir_;
  bool ok_ = false;
};

}  // namespace ipattrib::tls::testing
