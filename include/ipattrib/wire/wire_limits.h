// WireLimits: the hard bounds a peer enforces on everything it reads from the
// wire (and that a sender checks before sending, so a well-behaved agent never
// produces what a collector would refuse). Every size read from the network is
// compared against these before anything is allocated for it.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>

#include "ipattrib/config_errors.h"

namespace ipattrib::wire {

struct WireLimits {
  // Largest frame body accepted (the 8-byte header not counted).
  std::uint32_t max_frame_bytes = 16u << 20;
  // Largest decompressed record payload of one BATCH.
  std::uint32_t max_batch_decompressed_bytes = 64u << 20;
  std::uint32_t max_records_per_batch = 100'000;
  // Summed over the batch; bounds the decoded access-time vectors (8 bytes each).
  std::uint32_t max_accesses_per_batch = 4'000'000;
  std::uint32_t max_accesses_per_record = 1'000'000;
  // Any one string (account, principal, gateway, agent id, geo text, message).
  std::uint32_t max_string_bytes = 4096;
  // Distinct strings in one batch's string table.
  std::uint32_t max_strings_per_batch = 400'000;
};

// Reads a [wire] section: the keys are the field names above. Rejects unknown
// keys and values outside sane bounds; absent keys keep the defaults.
WireLimits parse_wire_limits(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::wire
