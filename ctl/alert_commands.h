// The ipattribctl subcommands for special-measures alerts: list and show
// alerts, acknowledge and resolve them, show the measures in effect and
// start a retroactive scan. Like ctl_commands.h, each is a function of its
// options, a QueryClient and the output streams returning the exit code.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "ctl/ctl_commands.h"
#include "ctl/query_client.h"

namespace ipattrib::ctl {

struct AlertsCommand {
  std::string state;     // "", open, acknowledged, resolved
  std::string severity;  // minimum severity, "" = any
  std::string measure;
  std::string account;
  TimeFilter time;               // on when the alert was raised
  std::uint64_t limit = 100;     // newest first; 0 = every matching alert
  std::string format = "table";  // table | json | csv
};

struct AlertCommand {
  std::int64_t id = 0;
  std::string format = "table";  // table | json
};

// ack and resolve.
struct AlertStateCommand {
  std::int64_t id = 0;
  std::string by;  // who; main.cc fills it from $USER when --by is not given
  std::string note;
  std::string format = "table";  // table (one line) | json (the alert)
};

struct MeasuresCommand {
  std::string format = "table";  // table | json
};

struct ScanCommand {
  std::string measure;           // "" = every measure in effect
  std::string format = "table";  // table | json
};

int run_alerts(QueryClient& client, const AlertsCommand& cmd, std::ostream& out, std::ostream& err);
int run_alert(QueryClient& client, const AlertCommand& cmd, std::ostream& out, std::ostream& err);
int run_ack(QueryClient& client, const AlertStateCommand& cmd, std::ostream& out, std::ostream& err);
int run_resolve(QueryClient& client, const AlertStateCommand& cmd, std::ostream& out, std::ostream& err);
int run_measures(QueryClient& client, const MeasuresCommand& cmd, std::ostream& out, std::ostream& err);
int run_scan(QueryClient& client, const ScanCommand& cmd, std::ostream& out, std::ostream& err);

}  // namespace ipattrib::ctl
