#include "collector/ledger/postgresql/postgres_chunk_months.h"

#include <chrono>

namespace ipattrib::collector {
namespace {

// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z, as in postgres_schema.cc.
constexpr std::int64_t kFirstPartitionedMs = -62135596800000;
constexpr std::int64_t kEndPartitionedMs = 253402300800000;

std::int64_t ms_of(std::chrono::sys_days day) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count();
}

}  // namespace

std::optional<ChunkMonth> chunk_month_of(std::int64_t time_ms) {
  using namespace std::chrono;
  if (time_ms < kFirstPartitionedMs || time_ms >= kEndPartitionedMs) return std::nullopt;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(time_ms)));
  const year_month_day date(day);
  const year_month month = date.year() / date.month();
  ChunkMonth out;
  out.index = static_cast<std::int64_t>(static_cast<int>(date.year())) * 12 + static_cast<unsigned>(date.month()) - 1;
  out.lo_ms = ms_of(sys_days(month / 1));
  out.hi_ms = ms_of(sys_days((month + months(1)) / 1));
  return out;
}

}  // namespace ipattrib::collector
