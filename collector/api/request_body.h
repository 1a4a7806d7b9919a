// The JSON bodies of the API's POST endpoints, checked and converted like
// request_params: each reader returns false with the message the client
// gets in a 400.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ipattrib::collector {

// The largest body a POST endpoint reads; make_api_server refuses larger
// requests (413) before they are buffered.
inline constexpr std::size_t kMaxRequestBodyBytes = 16384;

// The body as a JSON object; an empty (or all-blank) body is {}.
bool read_json_body(const httplib::Request& req, nlohmann::json& body, std::string& error);
// Every field must be in `known`.
bool only_fields(const nlohmann::json& body, std::initializer_list<std::string_view> known, std::string& error);
// body[key] as a string of at most max_bytes; absent leaves value alone.
bool read_string_field(const nlohmann::json& body, const char* key, std::size_t max_bytes, std::string& value,
                       std::string& error);

}  // namespace ipattrib::collector
