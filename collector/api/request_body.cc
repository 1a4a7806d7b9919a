#include "collector/api/request_body.h"

namespace ipattrib::collector {

bool read_json_body(const httplib::Request& req, nlohmann::json& body, std::string& error) {
  if (req.body.size() > kMaxRequestBodyBytes) {
    error = "request body is too large";
    return false;
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    body = nlohmann::json::object();
    return true;
  }
  // Invalid UTF-8 in a string fails the parse too.
  body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    error = "request body must be a JSON object";
    return false;
  }
  return true;
}

bool only_fields(const nlohmann::json& body, std::initializer_list<std::string_view> known, std::string& error) {
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (std::string_view k : known) ok |= key == k;
    if (!ok) {
      error = "unknown field " + key;
      return false;
    }
  }
  return true;
}

bool read_string_field(const nlohmann::json& body, const char* key, std::size_t max_bytes, std::string& value,
                       std::string& error) {
  if (!body.contains(key)) return true;
  if (!body[key].is_string()) {
    error = std::string(key) + " must be a string";
    return false;
  }
  value = body[key].get<std::string>();
  if (value.size() > max_bytes) {
    error = std::string(key) + " is longer than " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  return true;
}

}  // namespace ipattrib::collector
