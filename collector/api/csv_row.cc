#include "collector/api/csv_row.h"

namespace ipattrib::collector {

std::string csv_cell(std::string_view value) {
  std::string cell;
  cell.reserve(value.size() + 3);
  if (!value.empty()) {
    const char first = value.front();
    if (first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r') {
      cell.push_back('\'');
    }
  }
  cell.append(value);
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted;
  quoted.reserve(cell.size() + 8);
  quoted.push_back('"');
  for (char c : cell) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

void append_csv_row(std::string& out, const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += csv_cell(cells[i]);
  }
  out += "\r\n";
}

}  // namespace ipattrib::collector
