#include "collector/alerts/alert_sinks.h"

#include "collector/alerts/sinks/json_lines_sink.h"
#include "collector/alerts/sinks/syslog_sink.h"
#include "collector/alerts/sinks/webhook_sink.h"

namespace ipattrib::collector {

Status open_alert_sinks(const AlertsConfig& config, std::vector<std::unique_ptr<AlertSink>>& sinks) {
  sinks.clear();
  const auto add = [&](Status status, std::unique_ptr<AlertSink>& sink, const std::string& name) {
    if (!status) return Status::error("alert sink " + name + ": " + status.message());
    sinks.push_back(std::move(sink));
    return Status::ok();
  };
  for (const WebhookSinkConfig& c : config.webhooks) {
    std::unique_ptr<AlertSink> sink;
    if (Status s = add(open_webhook_sink(c, sink), sink, c.name); !s) return s;
  }
  for (const SyslogSinkConfig& c : config.syslogs) {
    std::unique_ptr<AlertSink> sink;
    if (Status s = add(open_syslog_sink(c, sink), sink, c.name); !s) return s;
  }
  for (const FileSinkConfig& c : config.files) {
    std::unique_ptr<AlertSink> sink;
    if (Status s = add(open_json_lines_sink(c, sink), sink, c.name); !s) return s;
  }
  return Status::ok();
}

}  // namespace ipattrib::collector
