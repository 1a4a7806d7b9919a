// The query parameters of the API's endpoints, checked and converted: each
// reader leaves its output alone when the parameter is absent, and on a bad
// value returns false with the message the client gets in a 400.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "collector/ledger/ledger_types.h"

namespace ipattrib::collector {

// Every parameter must be in `known` and given once: a typo ("contry") is an
// error instead of a silently unfiltered answer.
bool only_params(const httplib::Request& req, std::initializer_list<std::string_view> known, std::string& error);
// since / until: RFC 3339 or epoch ms; since must not be after until.
bool read_range(const httplib::Request& req, TimeRange& range, std::string& error);
// class: access | admin.
bool read_class(const httplib::Request& req, std::optional<RecordClass>& cls, std::string& error);
bool read_unsigned(const httplib::Request& req, const char* name, std::uint64_t& value, std::string& error);
// limit: default and ceiling max_page (larger values are lowered: a client
// asking for "all" gets a full page and a way to the next); 0 is an error.
bool read_limit(const httplib::Request& req, std::uint32_t max_page, std::uint32_t& limit, std::string& error);
// country: ISO 3166-1 alpha-2 in any case, returned uppercase.
bool read_country(const httplib::Request& req, std::string& country, std::string& error);

}  // namespace ipattrib::collector
