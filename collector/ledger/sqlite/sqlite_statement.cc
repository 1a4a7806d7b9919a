#include "collector/ledger/sqlite/sqlite_statement.h"

#include <fmt/format.h>

namespace ipattrib::collector {

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

Status SqliteStatement::prepare(sqlite3* db, std::string_view sql) {
  db_ = db;
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  const int rc =
      sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) return Status::error(fmt::format("sqlite prepare failed: {} in: {}", sqlite3_errmsg(db), sql));
  return Status::ok();
}

SqliteStatement& SqliteStatement::bind_int(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

SqliteStatement& SqliteStatement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob, not NULL, for "": keeps NOT NULL columns and
  // equality comparisons working for empty values.
  sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int SqliteStatement::step() { return sqlite3_step(stmt_); }

Status SqliteStatement::run() {
  const int rc = step();
  Status status = rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::ok() : error("step");
  reset();
  return status;
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t SqliteStatement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string SqliteStatement::column_blob(int index) const { return std::string(column_blob_view(index)); }

std::string_view SqliteStatement::column_blob_view(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool SqliteStatement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

Status SqliteStatement::error(std::string_view what) const {
  return Status::error(fmt::format("sqlite {} failed: {}", what, sqlite3_errmsg(db_)));
}

Status sqlite_exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return Status::ok();
  Status status = Status::error(fmt::format("sqlite exec failed: {}", message != nullptr ? message : "?"));
  sqlite3_free(message);
  return status;
}

}  // namespace ipattrib::collector
