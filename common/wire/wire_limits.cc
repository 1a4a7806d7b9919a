#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::wire {

namespace {

void read_limit(const toml::table& section, std::string_view key, std::int64_t min, std::int64_t max,
                std::uint32_t& field, ConfigErrors& errors) {
  if (auto v = errors.get_int(section, key, min, max)) field = static_cast<std::uint32_t>(*v);
}

}  // namespace

WireLimits parse_wire_limits(const toml::table& section, ConfigErrors& errors) {
  WireLimits limits;
  errors.reject_unknown_keys(section,
                             {"max_frame_bytes", "max_batch_decompressed_bytes", "max_records_per_batch",
                              "max_accesses_per_batch", "max_accesses_per_record", "max_string_bytes",
                              "max_strings_per_batch"},
                             "[wire]");
  // Lower bounds keep a minimal batch sendable; upper bounds keep a single
  // connection's worst case within a few hundred MiB of memory.
  read_limit(section, "max_frame_bytes", 4096, 256 << 20, limits.max_frame_bytes, errors);
  read_limit(section, "max_batch_decompressed_bytes", 4096, 512 << 20, limits.max_batch_decompressed_bytes, errors);
  read_limit(section, "max_records_per_batch", 1, 10'000'000, limits.max_records_per_batch, errors);
  read_limit(section, "max_accesses_per_batch", 1, 64'000'000, limits.max_accesses_per_batch, errors);
  read_limit(section, "max_accesses_per_record", 1, 64'000'000, limits.max_accesses_per_record, errors);
  read_limit(section, "max_string_bytes", 64, 1 << 20, limits.max_string_bytes, errors);
  read_limit(section, "max_strings_per_batch", 16, 40'000'000, limits.max_strings_per_batch, errors);
  return limits;
}

}  // namespace ipattrib::wire
