// SqliteStatement: one prepared statement kept for the life of the
// connection. Values reach SQL only through bind_*(), never by splicing text,
// so account ids and addresses cannot change a query's meaning.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ipattrib/status.h"

namespace ipattrib::collector {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  Status prepare(sqlite3* db, std::string_view sql);

  // Parameters are 1-based as in SQLite. Text and blobs are copied
  // (SQLITE_TRANSIENT) so callers may pass temporaries.
  SqliteStatement& bind_int(int index, std::int64_t value);
  SqliteStatement& bind_blob(int index, std::string_view bytes);
  SqliteStatement& bind_text(int index, std::string_view text);
  SqliteStatement& bind_null(int index);

  // SQLITE_ROW, SQLITE_DONE or an error code (see error()).
  int step();
  // Runs to completion expecting no rows; resets.
  Status run();
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_blob(int index) const;            // also reads text columns
  std::string_view column_blob_view(int index) const;  // valid until the next step/reset
  bool column_is_null(int index) const;

  Status error(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT).
Status sqlite_exec(sqlite3* db, const char* sql);

}  // namespace ipattrib::collector
