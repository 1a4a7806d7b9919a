// SyslogSink: each alert as one RFC 5424 message (the alert's JSON as MSG,
// its key facts as structured data) to a local datagram socket such as
// /dev/log, a UDP host, or a TCP host with RFC 6587 octet counting.
#pragma once

#include <memory>
#include <string>

#include "collector/alerts/alert_sink.h"
#include "collector/alerts/alerts_config.h"

namespace ipattrib::collector {

// The header fields that do not come from the alert.
struct SyslogHeader {
  int facility = 16;  // local0
  std::string hostname = "-";
  std::string app_name = "ipattrib";
  std::string procid = "-";
};

// critical -> 2 (crit), high -> 3 (err), review -> 4 (warning), info -> 6 (info).
int syslog_severity(Severity severity);

// "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID alert [ipattrib@32473 ...] {json}"
// without any framing or trailing newline.
std::string format_syslog_message(const Alert& alert, const SyslogHeader& header);

Status open_syslog_sink(const SyslogSinkConfig& config, std::unique_ptr<AlertSink>& sink);

}  // namespace ipattrib::collector
