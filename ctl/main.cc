// ipattribctl: the analyst's and operator's command line for the collector's
// query API (account -> IPs, accesses, IP/CIDR -> accounts, export) and its
// special-measures alerts (list, show, ack, resolve, measures, scan).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "ctl/alert_commands.h"
#include "ctl/ctl_commands.h"

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

void add_time_options(CLI::App* cmd, ipattrib::ctl::TimeFilter& time) {
  cmd->add_option("--since", time.since, "from this time (RFC 3339 or epoch ms)");
  cmd->add_option("--until", time.until, "up to this time (RFC 3339 or epoch ms)");
}

// Who acknowledges or resolves: --by, else the login name, so the audit
// trail names a person even though API tokens are shared.
void add_state_options(CLI::App* cmd, ipattrib::ctl::AlertStateCommand& state) {
  cmd->add_option("ID", state.id, "alert id")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--by", state.by, "who is making the change (default: $USER)");
  cmd->add_option("--note", state.note, "a note kept with the change");
  cmd->add_option("--format", state.format, "table or json")->check(CLI::IsMember({"table", "json"}));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ipattrib::ctl;
  CLI::App app{"ipattribctl: query the ipattrib collector's per-account IP ledger and special-measures alerts"};
  app.require_subcommand(1);
  ClientOptions client;
  client.url = env_or("IPATTRIB_URL", client.url);
  client.token = env_or("IPATTRIB_TOKEN", "");
  app.add_option("--url", client.url, "collector query API (env IPATTRIB_URL)")->capture_default_str();
  // The token is not shown as a default in --help.
  app.add_option("--token", client.token, "bearer token (env IPATTRIB_TOKEN; prefer the environment)");
  app.add_option("--ca-cert", client.ca_cert, "CA bundle (PEM) to verify an https collector")->check(CLI::ExistingFile);

  const std::vector<std::string> table_formats = {"table", "json", "csv"};
  AccountCommand account;
  CLI::App* account_cmd = app.add_subcommand("account", "the IPs an account was used from");
  account_cmd->add_option("ACCOUNT", account.account, "account id")->required();
  add_time_options(account_cmd, account.time);
  account_cmd->add_option("--class", account.access_class, "access or admin")
      ->check(CLI::IsMember({"access", "admin"}));
  account_cmd->add_option("--country", account.country, "ISO 3166-1 alpha-2 country at first or last sight");
  account_cmd->add_option("--format", account.format, "table, json or csv")->check(CLI::IsMember(table_formats));

  AccessesCommand accesses;
  CLI::App* accesses_cmd = app.add_subcommand("accesses", "every access of an account, with date and time");
  accesses_cmd->add_option("ACCOUNT", accesses.account, "account id")->required();
  accesses_cmd->add_option("--ip", accesses.ip, "only accesses from this IP");
  add_time_options(accesses_cmd, accesses.time);
  accesses_cmd->add_option("--class", accesses.access_class, "access or admin")
      ->check(CLI::IsMember({"access", "admin"}));
  accesses_cmd->add_option("--limit", accesses.limit, "at most this many accesses (default: all)")
      ->check(CLI::PositiveNumber);
  accesses_cmd->add_option("--format", accesses.format, "table, json or csv")->check(CLI::IsMember(table_formats));

  IpCommand ip;
  CLI::App* ip_cmd = app.add_subcommand("ip", "the accounts used from an IP address or CIDR network");
  ip_cmd->add_option("IP", ip.network, "IP address or CIDR network")->required();
  add_time_options(ip_cmd, ip.time);
  ip_cmd->add_option("--format", ip.format, "table, json or csv")->check(CLI::IsMember(table_formats));

  ExportCommand export_cmd_options;
  CLI::App* export_cmd = app.add_subcommand("export", "an account's full record (records request)");
  export_cmd->add_option("ACCOUNT", export_cmd_options.account, "account id")->required();
  export_cmd->add_option("--format", export_cmd_options.format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  export_cmd->add_option("-o,--output", export_cmd_options.output, "write to this file instead of stdout");

  AlertsCommand alerts;
  CLI::App* alerts_cmd = app.add_subcommand("alerts", "special-measures alerts, newest first");
  alerts_cmd->add_option("--state", alerts.state, "open, acknowledged or resolved")
      ->check(CLI::IsMember({"open", "acknowledged", "resolved"}));
  alerts_cmd->add_option("--severity", alerts.severity, "minimum severity: critical, high, review or info")
      ->check(CLI::IsMember({"critical", "high", "review", "info"}));
  alerts_cmd->add_option("--measure", alerts.measure, "only alerts of this measure id");
  alerts_cmd->add_option("--account", alerts.account, "only alerts of this account");
  add_time_options(alerts_cmd, alerts.time);
  alerts_cmd->add_option("--limit", alerts.limit, "at most this many alerts; 0 = all")->capture_default_str();
  alerts_cmd->add_option("--format", alerts.format, "table, json or csv")->check(CLI::IsMember(table_formats));

  AlertCommand alert;
  CLI::App* alert_cmd = app.add_subcommand("alert", "one alert in full");
  alert_cmd->add_option("ID", alert.id, "alert id")->required()->check(CLI::PositiveNumber);
  alert_cmd->add_option("--format", alert.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  AlertStateCommand ack;
  CLI::App* ack_cmd = app.add_subcommand("ack", "acknowledge an alert");
  add_state_options(ack_cmd, ack);
  AlertStateCommand resolve;
  CLI::App* resolve_cmd = app.add_subcommand("resolve", "resolve an alert");
  add_state_options(resolve_cmd, resolve);

  MeasuresCommand measures;
  CLI::App* measures_cmd = app.add_subcommand("measures", "the special-measures policy in effect");
  measures_cmd->add_option("--format", measures.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  ScanCommand scan;
  CLI::App* scan_cmd = app.add_subcommand("scan", "scan the ledger for past accesses under the measures");
  scan_cmd->add_option("--measure", scan.measure, "only this measure id (default: every measure)");
  scan_cmd->add_option("--format", scan.format, "table or json")->check(CLI::IsMember({"table", "json"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  QueryClient query(client);
  if (*account_cmd) return run_account(query, account, std::cout, std::cerr);
  if (*accesses_cmd) return run_accesses(query, accesses, std::cout, std::cerr);
  if (*ip_cmd) return run_ip(query, ip, std::cout, std::cerr);
  if (*alerts_cmd) return run_alerts(query, alerts, std::cout, std::cerr);
  if (*alert_cmd) return run_alert(query, alert, std::cout, std::cerr);
  if (*ack_cmd || *resolve_cmd) {
    AlertStateCommand& change = *ack_cmd ? ack : resolve;
    if (change.by.empty()) change.by = env_or("USER", env_or("LOGNAME", ""));
    if (change.by.empty()) {
      std::cerr << "ipattribctl: --by is required (who is making the change; $USER is not set)\n";
      return kExitUsage;
    }
    return *ack_cmd ? run_ack(query, change, std::cout, std::cerr) : run_resolve(query, change, std::cout, std::cerr);
  }
  if (*measures_cmd) return run_measures(query, measures, std::cout, std::cerr);
  if (*scan_cmd) return run_scan(query, scan, std::cout, std::cerr);
  return run_export(query, export_cmd_options, std::cout, std::cerr);
}
