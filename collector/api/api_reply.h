// ApiReply: the status, body and content type one query API request answers
// with, filled by the route handlers (QueryApi's own and AlertRoutes) and
// written to the HTTP response in one place, where it is also counted.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ipattrib::collector {

struct ApiReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";

  void json(int code, const nlohmann::json& value);
  // {"error": message}, the form of every API error.
  void error(int code, const std::string& message) { json(code, {{"error", message}}); }
};

}  // namespace ipattrib::collector
