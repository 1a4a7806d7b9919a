// PostgresConnection: one libpq connection with its named prepared
// statements, used by one thread at a time. Values reach SQL only as bound
// parameters (bytea in binary, numbers, addresses and arrays as text), never
// spliced into SQL, so account ids and addresses cannot change a query's
// meaning. Results come back in binary.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipattrib/ip_address.h"
#include "ipattrib/status.h"

namespace ipattrib::collector {

// Parameters of one statement execution, in $1, $2, ... order.
class PgParams {
 public:
  PgParams& bytea(std::string_view bytes);  // binary
  PgParams& int8(std::int64_t value);
  PgParams& text(std::string_view value);
  PgParams& inet(const IpAddress& ip) { return text(ip.to_string()); }
  PgParams& inet(const Cidr& cidr) { return text(cidr.to_string()); }
  PgParams& null();

  int count() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::string> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
};

// Text literals of one-dimensional arrays, bound as one text parameter
// each ("{...}"): a whole batch goes to the server in one statement.
class PgArray {
 public:
  void add_bytea(std::string_view bytes);
  void add_int(std::int64_t value);
  void add_inet(const IpAddress& ip);
  std::string literal() const { return text_ + "}"; }
  bool empty() const { return text_.size() == 1; }

 private:
  void separate() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_ = "{";
};

// A binary-format result; frees itself.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : result_(r, &PQclear) {}
  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::int64_t int_at(int row, int col) const;  // int2, int4 or int8
  bool bool_at(int row, int col) const;
  std::string_view bytes_at(int row, int col) const;
  std::string string_at(int row, int col) const { return std::string(bytes_at(row, col)); }
  IpAddress inet_at(int row, int col) const;
  std::uint64_t affected() const;  // rows a DELETE/UPDATE/INSERT touched
  PGresult* get() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_{nullptr, &PQclear};
};

class PostgresConnection {
 public:
  PostgresConnection() = default;
  ~PostgresConnection();
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;

  // conninfo is a libpq connection string; password (may be empty: then
  // libpq's own PGPASSWORD / ~/.pgpass apply) is passed beside it so it
  // never appears in a string that could be logged.
  Status connect(const std::string& conninfo, const std::string& password);
  // Statements to prepare now and on every reconnection: name -> SQL.
  Status use_statements(std::vector<std::pair<std::string, std::string>> statements);
  // Reconnects and re-prepares if the server went away (restart, failover).
  // Called before a transaction starts, never inside one: a statement of a
  // broken transaction must fail, not run alone on a new session.
  Status ensure_connected();

  // Runs a prepared statement. On failure `sqlstate` (if given) receives
  // the five-character SQLSTATE.
  Status run(const char* name, const PgParams& params, PgResult& result, std::string* sqlstate = nullptr);
  Status run(const char* name, const PgParams& params, std::string* sqlstate = nullptr) {
    PgResult ignored;
    return run(name, params, ignored, sqlstate);
  }
  // Runs SQL without parameters (BEGIN, COMMIT, schema).
  Status exec(const char* sql, std::string* sqlstate = nullptr);

  // True when the server went away; ensure_connected() then reconnects.
  bool lost() const { return ended_ || conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

 private:
  Status prepare_all();
  PGconn* conn_ = nullptr;
  bool ended_ = false;  // a statement failed because the session ended
  std::string conninfo_;
  std::string password_;
  std::vector<std::pair<std::string, std::string>> statements_;
};

// SQLSTATEs after which a transaction is simply tried again.
inline bool is_retryable_sqlstate(std::string_view state) {
  return state == "40001" || state == "40P01";  // serialization failure, deadlock
}

}  // namespace ipattrib::collector
