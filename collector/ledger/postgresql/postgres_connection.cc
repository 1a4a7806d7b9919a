#include "collector/ledger/postgresql/postgres_connection.h"

#include <fmt/format.h>

#include <cstring>

namespace ipattrib::collector {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::uint64_t read_be(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Server notices ("relation already exists, skipping" during migrations)
// would go to stderr unformatted; nothing in them needs an operator.
void ignore_notice(void*, const PGresult*) {}

// A failure that says nothing about the statement but that the session is
// gone: libpq's own errors carry no SQLSTATE, and the server says 08xxx
// (connection exception) or 57P0x (shut down, crashed) when it ends one.
// libpq may still report CONNECTION_OK until the next call reads the EOF.
bool session_ended(const char* state) {
  if (state == nullptr || *state == '\0') return true;
  const std::string_view s(state);
  return s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03";
}

std::string trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

PgParams& PgParams::bytea(std::string_view bytes) {
  values_.emplace_back(bytes);
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  nulls_.push_back(false);
  return *this;
}

PgParams& PgParams::null() {
  values_.emplace_back();
  lengths_.push_back(0);
  formats_.push_back(0);
  nulls_.push_back(true);
  return *this;
}

PgParams& PgParams::int8(std::int64_t value) { return text(std::to_string(value)); }

PgParams& PgParams::text(std::string_view value) {
  values_.emplace_back(value);
  lengths_.push_back(static_cast<int>(value.size()));
  formats_.push_back(0);
  nulls_.push_back(false);
  return *this;
}

std::vector<const char*> PgParams::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return out;
}

// An element "\\x0a0b": the array parser drops one level of backslashes,
// leaving bytea's hex input form.
void PgArray::add_bytea(std::string_view bytes) {
  separate();
  text_ += "\"\\\\x";
  for (unsigned char c : bytes) {
    text_ += kHex[c >> 4];
    text_ += kHex[c & 15];
  }
  text_ += '"';
}

void PgArray::add_int(std::int64_t value) {
  separate();
  text_ += std::to_string(value);
}

void PgArray::add_inet(const IpAddress& ip) {
  separate();
  char buf[IpAddress::kMaxTextLength];
  text_.append(buf, ip.format(buf));
}

std::int64_t PgResult::int_at(int row, int col) const {
  const char* p = PQgetvalue(result_.get(), row, col);
  const int n = PQgetlength(result_.get(), row, col);
  const std::uint64_t v = read_be(p, n);
  switch (n) {
    case 2:
      return static_cast<std::int16_t>(v);
    case 4:
      return static_cast<std::int32_t>(v);
    default:
      return static_cast<std::int64_t>(v);
  }
}

bool PgResult::bool_at(int row, int col) const { return PQgetvalue(result_.get(), row, col)[0] != 0; }

std::string_view PgResult::bytes_at(int row, int col) const {
  return std::string_view(PQgetvalue(result_.get(), row, col),
                          static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

// Binary inet: family (2 = v4, 3 = v6), bits, is_cidr, length, address.
IpAddress PgResult::inet_at(int row, int col) const {
  const std::string_view v = bytes_at(row, col);
  if (v.size() < 4) return IpAddress();
  const auto* addr = reinterpret_cast<const std::uint8_t*>(v.data() + 4);
  if (v[0] == 2 && v.size() == 8) return IpAddress::from_v4_bytes(addr);
  if (v[0] == 3 && v.size() == 20) return IpAddress::from_v6_bytes(addr);
  return IpAddress();
}

std::uint64_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n != nullptr && *n != '\0' ? std::strtoull(n, nullptr, 10) : 0;
}

PostgresConnection::~PostgresConnection() { PQfinish(conn_); }

Status PostgresConnection::connect(const std::string& conninfo, const std::string& password) {
  conninfo_ = conninfo;
  password_ = password;
  const char* keys[] = {"dbname", "fallback_application_name", password.empty() ? nullptr : "password", nullptr};
  const char* values[] = {conninfo.c_str(), "ipattrib-collector", password.c_str(), nullptr};
  PQfinish(conn_);
  ended_ = false;
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return Status::error("postgresql: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::error(fmt::format("postgresql: cannot connect: {}", trimmed(PQerrorMessage(conn_))));
  }
  PQsetNoticeReceiver(conn_, &ignore_notice, nullptr);
  return prepare_all();
}

Status PostgresConnection::use_statements(std::vector<std::pair<std::string, std::string>> statements) {
  statements_ = std::move(statements);
  return conn_ != nullptr ? prepare_all() : Status::ok();
}

Status PostgresConnection::prepare_all() {
  for (const auto& [name, sql] : statements_) {
    PgResult r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return Status::error(fmt::format("postgresql: preparing {}: {}", name, trimmed(PQresultErrorMessage(r.get()))));
    }
  }
  return Status::ok();
}

Status PostgresConnection::ensure_connected() {
  if (!lost()) return Status::ok();
  if (conn_ == nullptr) return connect(conninfo_, password_);
  ended_ = false;
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status::error(fmt::format("postgresql: reconnecting: {}", trimmed(PQerrorMessage(conn_))));
  }
  return prepare_all();
}

Status PostgresConnection::run(const char* name, const PgParams& params, PgResult& result, std::string* sqlstate) {
  const std::vector<const char*> values = params.values();
  result = PgResult(
      PQexecPrepared(conn_, name, params.count(), values.data(), params.lengths(), params.formats(), /*binary=*/1));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return Status::ok();
  const char* state = result.get() != nullptr ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate != nullptr) *sqlstate = state != nullptr ? state : "";
  ended_ = ended_ || session_ended(state);
  return Status::error(fmt::format("postgresql: {}: {}", name, trimmed(PQerrorMessage(conn_))));
}

Status PostgresConnection::exec(const char* sql, std::string* sqlstate) {
  PgResult r(PQexec(conn_, sql));
  const ExecStatusType status = PQresultStatus(r.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return Status::ok();
  const char* state = r.get() != nullptr ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate != nullptr) *sqlstate = state != nullptr ? state : "";
  ended_ = ended_ || session_ended(state);
  return Status::error(fmt::format("postgresql: {}", trimmed(PQerrorMessage(conn_))));
}

}  // namespace ipattrib::collector
