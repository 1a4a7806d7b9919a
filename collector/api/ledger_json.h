// How ledger values look in the query API's JSON: summaries, accesses and
// an account's export. One place so the endpoints, the export and
// docs/api.md agree on every field name.
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

// nlohmann dump that replaces invalid UTF-8 (stored strings come from the
// network) instead of throwing.
std::string dump_json(const nlohmann::json& value);

}  // namespace ipattrib::collector
