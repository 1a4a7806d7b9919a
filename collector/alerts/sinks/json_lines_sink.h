// JsonLinesSink: appends each alert as one line of JSON to a file, fsynced
// before the delivery counts, for log shippers and audits. The file is
// reopened per alert so a rotated file is picked up; it is created mode 0600.
#pragma once

#include <memory>

#include "collector/alerts/alert_sink.h"
#include "collector/alerts/alerts_config.h"

namespace ipattrib::collector {

Status open_json_lines_sink(const FileSinkConfig& config, std::unique_ptr<AlertSink>& sink);

}  // namespace ipattrib::collector
