// What every ipattribctl subcommand writes the same way: a JSON field as
// table text, rows as an aligned table, CSV or a JSON document, and a failed
// request as one line on stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "ctl/query_client.h"

namespace ipattrib::ctl {

// j[key] as cell text: strings as they are, null or absent as "", anything
// else as compact JSON.
std::string text_of(const nlohmann::json& j, const char* key);

// Writes rows as a table, `document` as indented JSON, or the rows as CSV
// under the headers lowercased with '_' for ' '. Returns kExitOk.
int write_rows(const std::string& format, const std::vector<std::string>& headers,
               const std::vector<std::vector<std::string>>& rows, const nlohmann::json& document, std::ostream& out);

// "ipattribctl: <message>" on err; returns reply.code.
int fail(const Reply& reply, std::ostream& err);

}  // namespace ipattrib::ctl
