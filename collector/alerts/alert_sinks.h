// Builds the configured sinks ([[alerts.webhook]], [[alerts.syslog]],
// [[alerts.file]]) for AlertDelivery.
#pragma once

#include <memory>
#include <vector>

#include "collector/alerts/alert_sink.h"
#include "collector/alerts/alerts_config.h"

namespace ipattrib::collector {

// In config.sink_names() order. Fails on the first sink that cannot be made
// (unreadable secret, bad address); nothing is connected yet.
Status open_alert_sinks(const AlertsConfig& config, std::vector<std::unique_ptr<AlertSink>>& sinks);

}  // namespace ipattrib::collector
