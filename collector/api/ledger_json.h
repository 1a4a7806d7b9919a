// How ledger values look on the wire of the query API: JSON objects for
// summaries and accesses, and the CSV of an account's full record. One place
// so the endpoints, the export and docs/api.md agree on every field name.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "collector/ledger/ledger_types.h"

namespace ipattrib::collector {

std::string_view record_class_name(RecordClass c);  // "access" | "admin"
std::string_view ip_source_name(RecordIpSource s);  // "socket" | "proxy_protocol" | ...

nlohmann::json geo_json(const RecordGeo& geo);
// with_account: the reverse lookup names the account; account endpoints do not repeat it.
nlohmann::json summary_json(const IpSummary& summary, bool with_account);
nlohmann::json access_json(const Access& access);
nlohmann::json export_json(const std::string& account, const AccountExport& record);

// One row per access joined with its (ip, class) summary; an (ip, class)
// whose access detail retention removed keeps one row with an empty
// access_time, so the export lists every IP the ledger knows.
std::string export_csv(const std::string& account, const AccountExport& record);

// nlohmann dump that replaces invalid UTF-8 (stored strings come from the
// network) instead of throwing.
std::string dump_json(const nlohmann::json& value);

}  // namespace ipattrib::collector
