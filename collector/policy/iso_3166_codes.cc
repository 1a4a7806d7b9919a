#include "collector/policy/iso_3166_codes.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace ipattrib::collector {
namespace {

// Reads `file` in `dir` ({"<list>": [{"<field>": "XX", ...}, ...]}) and
// inserts every value of `field`.
Status read_codes(const std::string& dir, const char* file, const char* list, const char* field,
                  std::unordered_set<std::string>& codes) {
  const std::string path = dir + "/" + file;
  std::ifstream in(path);
  if (!in) return Status::error(fmt::format("cannot read {} (Debian package iso-codes)", path));
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains(list) || !doc[list].is_array()) {
    return Status::error(fmt::format("{} is not iso-codes JSON with a '{}' list", path, list));
  }
  for (const nlohmann::json& entry : doc[list]) {
    if (entry.is_object() && entry.contains(field) && entry[field].is_string()) {
      codes.insert(entry[field].get<std::string>());
    }
  }
  if (codes.empty()) return Status::error(fmt::format("{} lists no codes", path));
  return Status::ok();
}

}  // namespace

Status Iso3166Codes::load(const std::string& dir) {
  countries_.clear();
  subdivisions_.clear();
  if (Status s = read_codes(dir, "iso_3166-1.json", "3166-1", "alpha_2", countries_); !s) return s;
  return read_codes(dir, "iso_3166-2.json", "3166-2", "code", subdivisions_);
}

}  // namespace ipattrib::collector
