#include "ctl/command_output.h"

#include <algorithm>

#include "collector/api/csv_row.h"
#include "ctl/text_table.h"

namespace ipattrib::ctl {
namespace {

std::vector<std::string> csv_headers(std::vector<std::string> headers) {
  for (std::string& h : headers) {
    std::transform(h.begin(), h.end(), h.begin(),
                   [](char c) { return c == ' ' ? '_' : static_cast<char>(std::tolower(c)); });
  }
  return headers;
}

}  // namespace

std::string text_of(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const nlohmann::json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int write_rows(const std::string& format, const std::vector<std::string>& headers,
               const std::vector<std::vector<std::string>>& rows, const nlohmann::json& document, std::ostream& out) {
  if (format == "json") {
    out << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else if (format == "csv") {
    std::string text;
    collector::append_csv_row(text, csv_headers(headers));
    for (const auto& row : rows) collector::append_csv_row(text, row);
    out << text;
  } else {
    TextTable table(headers);
    for (const auto& row : rows) table.add_row(row);
    table.write(out);
  }
  return kExitOk;
}

int fail(const Reply& reply, std::ostream& err) {
  err << "ipattribctl: " << reply.message << '\n';
  return reply.code;
}

}  // namespace ipattrib::ctl
