// ApiTestServer: a real QueryApi on 127.0.0.1 (any free port) over a real
// SQLite ledger in a fresh temp dir, filled with a known data set. Shared by
// the query API tests and the ipattribctl tests.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collector/api/api_config.h"
#include "collector/api/query_api.h"
#include "collector/ledger/ledger_store.h"

namespace ipattrib::collector::testing {

inline constexpr const char* kTestToken = "test-token-0123456789";
inline constexpr std::int64_t kBase = 1700000000000;  // 2023-11-14T22:13:20.000Z

// Accounts whose ids are built to break quoting, paths and terminals.
std::vector<std::string> hostile_accounts();

class ApiTestServer {
 public:
  // config.token_sha256 defaults to the hash of kTestToken; the server is
  // made by make_api_server (HTTPS when config has tls_cert/tls_key).
  // setup runs on the QueryApi before the server listens (e.g. set_alerts).
  explicit ApiTestServer(ApiConfig config = {}, const std::function<void(QueryApi&)>& setup = {});
  ~ApiTestServer();

  int port() const { return port_; }
  std::string url() const { return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_); }
  LedgerStore& store() { return *store_; }
  QueryApi& api() { return *api_; }

  // GET path (already percent-encoded) with `Authorization: Bearer token` ("" = none).
  std::pair<int, std::string> get(const std::string& path, const std::string& token = kTestToken);
  // POST path with a JSON body (application/json).
  std::pair<int, std::string> post(const std::string& path, const std::string& body,
                                   const std::string& token = kTestToken);

  // The data set: see api_test_server.cc.
  static std::vector<RecordBatch> batches();

 private:
  std::string dir_;
  std::unique_ptr<LedgerStore> store_;
  std::unique_ptr<QueryApi> api_;
  std::unique_ptr<httplib::Server> server_;
  bool tls_ = false;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ipattrib::collector::testing
