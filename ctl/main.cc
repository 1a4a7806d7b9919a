// ipattribctl: the analyst's and operator's command line for the collector's
// query API (account -> IPs, accesses, IP/CIDR -> accounts, export).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

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

}  // namespace

int main(int argc, char** argv) {
  using namespace ipattrib::ctl;
  CLI::App app{"ipattribctl: query the ipattrib collector's per-account IP ledger"};
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
  return run_export(query, export_cmd_options, std::cout, std::cerr);
}
