// The one JSON form of an alert, used by the query API, the webhook and
// JSON-lines sinks and syslog's message body, so every consumer parses the
// same document. Times are RFC 3339 UTC with milliseconds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "collector/alerts/alert_types.h"

namespace ipattrib::collector {

nlohmann::json alert_to_json(const Alert& alert);
// alert_to_json as compact text (invalid UTF-8 replaced): the exact bytes
// the sinks send and the webhook signs.
std::string alert_json_text(const Alert& alert);

}  // namespace ipattrib::collector
