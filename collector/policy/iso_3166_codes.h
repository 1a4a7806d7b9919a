// Iso3166Codes: the ISO 3166-1 country and ISO 3166-2 subdivision codes a
// policy may name, read from Debian's iso-codes data so that a typo ("UA-34"
// for "UA-43") is rejected when the policy loads instead of never matching.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "ipattrib/status.h"

namespace ipattrib::collector {

// Where Debian's iso-codes package installs its JSON files.
inline constexpr const char kDefaultIsoCodesDir[] = "/usr/share/iso-codes/json";

class Iso3166Codes {
 public:
  // Reads iso_3166-1.json and iso_3166-2.json from `dir`.
  Status load(const std::string& dir);
  bool is_country(std::string_view alpha2) const { return countries_.contains(std::string(alpha2)); }
  bool is_subdivision(std::string_view code) const { return subdivisions_.contains(std::string(code)); }
  std::size_t country_count() const { return countries_.size(); }
  std::size_t subdivision_count() const { return subdivisions_.size(); }

 private:
  std::unordered_set<std::string> countries_;
  std::unordered_set<std::string> subdivisions_;
};

}  // namespace ipattrib::collector
