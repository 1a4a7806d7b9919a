// The CSV form of an account's full record (GET .../export?format=csv), for
// records requests that end in a spreadsheet: one row per access joined with
// its (ip, class) summary; an (ip, class) whose access detail retention
// removed keeps one row with an empty access_time, so every IP the ledger
// knows is listed. Cells go through csv_cell (quoting, formula guard).
#pragma once

#include <string>

#include "collector/ledger/ledger_types.h"

namespace ipattrib::collector {

std::string export_csv(const std::string& account, const AccountExport& record);

}  // namespace ipattrib::collector
