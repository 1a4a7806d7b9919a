// The ipattribctl subcommands, each a function of its options, a QueryClient
// and the output streams, returning the process exit code (ExitCode). main.cc
// only parses the command line; tests call these or run the binary.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "ctl/query_client.h"

namespace ipattrib::ctl {

struct TimeFilter {
  std::string since;  // RFC 3339 or epoch ms, passed to the server as given
  std::string until;
};

struct AccountCommand {
  std::string account;
  TimeFilter time;
  std::string access_class;  // "", "access", "admin"
  std::string country;
  std::string format = "table";  // table | json | csv
};

struct AccessesCommand {
  std::string account;
  std::string ip;
  TimeFilter time;
  std::string access_class;
  std::optional<std::uint64_t> limit;  // unset: every access, following cursors
  std::string format = "table";
};

struct IpCommand {
  std::string network;  // IP or CIDR
  TimeFilter time;
  std::string format = "table";
};

struct ExportCommand {
  std::string account;
  std::string format = "csv";  // csv | json
  std::string output;          // "" = stdout
};

int run_account(QueryClient& client, const AccountCommand& cmd, std::ostream& out, std::ostream& err);
int run_accesses(QueryClient& client, const AccessesCommand& cmd, std::ostream& out, std::ostream& err);
int run_ip(QueryClient& client, const IpCommand& cmd, std::ostream& out, std::ostream& err);
int run_export(QueryClient& client, const ExportCommand& cmd, std::ostream& out, std::ostream& err);

}  // namespace ipattrib::ctl
