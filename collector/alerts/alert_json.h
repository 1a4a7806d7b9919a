// The one JSON form of an alert, used by the query API, the webhook and
// JSON-lines sinks and syslog's message body, so every consumer parses the
// same document. Times are RFC 3339 UTC with milliseconds.
#pragma once

#include <nlohmann/json.hpp>

#include "collector/alerts/alert_types.h"

namespace ipattrib::collector {

nlohmann::json alert_to_json(const Alert& alert);

}  // namespace ipattrib::collector
