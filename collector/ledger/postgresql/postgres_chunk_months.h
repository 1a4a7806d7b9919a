// ChunkMonth: the calendar month (UTC) whose partition of
// ledger_access_chunks holds a chunk starting at a given time (private to
// collector/ledger/postgresql). The store uses it only to remember which
// months it has seen a partition for; the partitions themselves are made by
// SQL (postgres_schema.cc), which has the final word.
#pragma once

#include <cstdint>
#include <optional>

namespace ipattrib::collector {

struct ChunkMonth {
  std::int64_t index = 0;  // year * 12 + month - 1
  std::int64_t lo_ms = 0;  // the month's first millisecond
  std::int64_t hi_ms = 0;  // the next month's first millisecond
};

// Times in years 1..9999 have monthly partitions; others (a broken agent
// clock) live in two fixed partitions: nullopt.
std::optional<ChunkMonth> chunk_month_of(std::int64_t time_ms);

}  // namespace ipattrib::collector
