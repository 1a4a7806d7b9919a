// AlertsConfig: the collector's [alerts] section — where alerts are stored,
// how long hits of one (measure, account, ip) fold into one alert, how the
// outbox retries, and the sinks every new alert is delivered to.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ipattrib/config_errors.h"

namespace ipattrib::collector {

// [[alerts.webhook]]: a JSON POST per alert, signed with HMAC-SHA256.
struct WebhookSinkConfig {
  std::string name;                 // name: unique among all sinks; the outbox is kept per name
  std::string url;                  // url: http:// or https://host[:port][/path]
  std::string secret_file;          // secret_file: the shared HMAC key (file content, trailing newline dropped)
  std::string ca_file;              // ca_file: CA bundle for https (default: the system's)
  std::uint32_t timeout_ms = 5000;  // timeout_ms, 100..120000: connect, send and answer each
};

// [[alerts.syslog]]: one RFC 5424 message per alert.
struct SyslogSinkConfig {
  std::string name;
  std::string address = "unix:/dev/log";  // address: unix:PATH (datagram), udp:HOST:PORT, tcp:HOST:PORT
  std::string app_name = "ipattrib";      // app_name: RFC 5424 APP-NAME, 1..48 printable ASCII
  std::string facility = "local0";        // facility: auth, authpriv, daemon, user, local0..local7
};

// [[alerts.file]]: one JSON line per alert, appended and fsynced.
struct FileSinkConfig {
  std::string name;
  std::string path;  // path: created mode 0600 if missing
};

struct AlertsConfig {
  std::string sqlite_path;              // sqlite_path: "" = the collector's default (next to the ledger)
  std::uint32_t dedup_window_s = 3600;  // dedup_window_s, 0..604800 (0: every hit is an alert)
  std::uint32_t retry_base_ms = 1000;   // retry_base_ms, 10..600000: first retry's upper bound
  std::uint32_t retry_max_ms = 300000;  // retry_max_ms, >= retry_base_ms, <= 86400000: backoff cap
  std::vector<WebhookSinkConfig> webhooks;
  std::vector<SyslogSinkConfig> syslogs;
  std::vector<FileSinkConfig> files;

  // Every configured sink's name, in config order (webhooks, syslogs, files).
  std::vector<std::string> sink_names() const;
};

// Parses the [alerts] table; records file:line errors and rejects unknown keys.
AlertsConfig parse_alerts_config(const toml::table& section, ConfigErrors& errors);

}  // namespace ipattrib::collector
