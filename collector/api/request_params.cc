#include "collector/api/request_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "collector/api/rfc3339.h"

namespace ipattrib::collector {

bool only_params(const httplib::Request& req, std::initializer_list<std::string_view> known, std::string& error) {
  for (const auto& [key, value] : req.params) {
    bool ok = false;
    for (std::string_view k : known) ok |= key == k;
    if (!ok) {
      error = "unknown parameter";
      return false;
    }
    if (req.get_param_value_count(key) > 1) {
      error = "parameter " + key + " given more than once";
      return false;
    }
  }
  return true;
}

bool read_range(const httplib::Request& req, TimeRange& range, std::string& error) {
  for (const char* name : {"since", "until"}) {
    if (!req.has_param(name)) continue;
    std::int64_t& bound = std::string_view(name) == "since" ? range.since_ms : range.until_ms;
    if (!parse_time_parameter(req.get_param_value(name), bound)) {
      error = std::string(name) + " must be RFC 3339 (2024-05-01T00:00:00Z) or epoch milliseconds";
      return false;
    }
  }
  if (range.since_ms > range.until_ms) {
    error = "since is after until";
    return false;
  }
  return true;
}

bool read_class(const httplib::Request& req, std::optional<RecordClass>& cls, std::string& error) {
  if (!req.has_param("class")) return true;
  const std::string value = req.get_param_value("class");
  if (value == "access") {
    cls = RecordClass::kAccess;
  } else if (value == "admin") {
    cls = RecordClass::kAdmin;
  } else {
    error = "class must be access or admin";
    return false;
  }
  return true;
}

bool read_unsigned(const httplib::Request& req, const char* name, std::uint64_t& value, std::string& error) {
  if (!req.has_param(name)) return true;
  const std::string text = req.get_param_value(name);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    error = std::string(name) + " must be a non-negative integer";
    return false;
  }
  return true;
}

bool read_limit(const httplib::Request& req, std::uint32_t max_page, std::uint32_t& limit, std::string& error) {
  std::uint64_t value = max_page;
  if (!read_unsigned(req, "limit", value, error)) return false;
  if (value == 0) {
    error = "limit must be at least 1";
    return false;
  }
  limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(value, max_page));
  return true;
}

bool read_country(const httplib::Request& req, std::string& country, std::string& error) {
  if (!req.has_param("country")) return true;
  std::string value = req.get_param_value("country");
  if (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
      !std::isalpha(static_cast<unsigned char>(value[1]))) {
    error = "country must be an ISO 3166-1 alpha-2 code";
    return false;
  }
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  country = value;
  return true;
}

}  // namespace ipattrib::collector
