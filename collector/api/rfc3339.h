// RFC 3339 timestamps at millisecond resolution, the form every time takes in
// the query API's JSON and CSV, and the parser for the API's since/until
// parameters (which also accept plain epoch milliseconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ipattrib::collector {

// "2024-05-01T12:34:56.789Z" (UTC). Years outside 0000-9999 are clamped to the
// range so the output stays a valid RFC 3339 string.
std::string format_rfc3339_ms(std::int64_t epoch_ms);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (T or t or space,
// fraction truncated to milliseconds) or an integer of epoch milliseconds.
// Returns false on anything else, leaving epoch_ms unchanged.
bool parse_time_parameter(std::string_view text, std::int64_t& epoch_ms);

}  // namespace ipattrib::collector
