// PostgresServer: a real, throwaway PostgreSQL server for tests and
// benchmarks. Its own data directory and unix socket under a fresh temp
// dir, initdb + pg_ctl from Debian's /usr/lib/postgresql/<version>/bin, a
// free TCP port on 127.0.0.1; run as `nobody` when we are root (postgres
// refuses to run as root). Stopped (pg_ctl stop -m immediate) and removed
// on destruction.
//
// Diagnosis: IPATTRIB_PG_BINDIR picks the server binaries;
// IPATTRIB_PG_LOG_SLOW_MS=N logs statements slower than N ms and
// IPATTRIB_PG_KEEP_LOG=FILE keeps the server log after the server is gone.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "ipattrib/status.h"

namespace ipattrib::test_support {

struct PostgresServerOptions {
  // fsync on, as a production server: for benchmarks. Tests run with fsync
  // off (nothing they check depends on surviving a power loss).
  bool durable = false;
  std::string shared_buffers = "128MB";
};

class PostgresServer {
 public:
  // Fails (with why, e.g. "initdb not found") when no server can be started.
  static Status start(const PostgresServerOptions& options, std::unique_ptr<PostgresServer>& out);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq connection string for `database` over the unix socket (trust, no
  // password).
  std::string conninfo(const std::string& database) const;
  // Over TCP to 127.0.0.1 (scram-sha-256): needs password().
  std::string tcp_conninfo(const std::string& database) const;
  const std::string& password() const { return password_; }
  int port() const { return port_; }
  const std::string& directory() const { return dir_; }

  // Stops the server at once (as a crash would) and starts it again on the
  // same port: clients' connections break and must reconnect.
  Status restart();
  // Creates the database unless it exists; `name` is [a-z0-9_]+.
  Status ensure_database(const std::string& name);
  // Runs SQL on `database`; the first column of the first row, if any, goes
  // to `first_value`.
  Status execute(const std::string& database, const std::string& sql, std::string* first_value = nullptr);

 private:
  PostgresServer() = default;
  Status launch(const PostgresServerOptions& options);
  void stop();

  std::string bin_dir_;
  std::string dir_;
  std::string password_;
  int port_ = 0;
  bool running_ = false;
  pid_t owner_pid_ = 0;  // a forked child that exits must not stop its parent's server
};

// One server for the whole test process, started on first use and stopped
// at exit. Null, with the reason in why_not, if it cannot start: the test
// then skips with that reason.
PostgresServer* shared_postgres_server(std::string& why_not);

// A database name unique to this process: prefix_<pid>_<counter>.
std::string fresh_database_name(const std::string& prefix);

}  // namespace ipattrib::test_support
