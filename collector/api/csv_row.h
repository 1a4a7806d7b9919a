// CSV output for records requests: RFC 4180 quoting, and cells that a
// spreadsheet would run as a formula (=, +, -, @, and tab/CR that some
// spreadsheets skip before one) made inert with a leading single quote —
// account ids and geo strings come from the network and must not execute.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ipattrib::collector {

// One cell, quoted when it holds a comma, quote, CR or LF.
std::string csv_cell(std::string_view value);

// Appends the cells joined by commas and a CRLF line end.
void append_csv_row(std::string& out, const std::vector<std::string>& cells);

}  // namespace ipattrib::collector
