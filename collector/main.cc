// ipattrib-collector: receives agents' batches over mutual TLS, keeps the
// per-account IP ledger (SQLite or PostgreSQL), screens every access against
// the special-measures policy and delivers its alerts, serves the query API,
// and enforces the retention window — or, with [ingest] enabled = false, only
// serves the query API over a ledger other collectors fill. Exit status: 0 ok (also after
// SIGTERM/SIGINT), 1 bad configuration or a failure to start, 2 bad usage.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "collector/collector_config.h"
#include "collector/collector_run.h"
#include "collector/policy/policy_loader.h"

namespace ipattrib::collector {
namespace {

CollectorSignals g_signals;

extern "C" void on_signal(int signal_number) {
  switch (signal_number) {
    case SIGINT:
    case SIGTERM: g_signals.stop.store(true); break;
    case SIGUSR1: g_signals.print_stats.store(true); break;
    case SIGHUP: g_signals.reload.store(true); break;
    default: break;
  }
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGHUP}) sigaction(s, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error on that connection, not the process's end
}

// --check-config: the configuration, then the policy file it names.
int check_config(const std::string& config_path, const CollectorConfig& config) {
  std::printf("%s: ok\n", config_path.c_str());
  if (config.policy.path.empty()) return 0;
  PolicyLoadOptions options;
  if (!config.policy.iso_codes_dir.empty()) options.iso_codes_dir = config.policy.iso_codes_dir;
  return check_policy_file(config.policy.path, std::cout, std::cerr, options);
}

int run_collector(const std::string& config_path, bool check_only) {
  ConfigErrors errors(config_path);
  std::optional<CollectorConfig> config = load_collector_config(config_path, errors);
  if (!config) {
    std::fprintf(stderr, "%s\n", errors.to_string().c_str());
    return 1;
  }
  if (check_only) return check_config(config_path, *config);
  install_signal_handlers();
  CollectorRun run(config_path, std::move(*config), g_signals);
  return run.run();
}

}  // namespace
}  // namespace ipattrib::collector

int main(int argc, char** argv) {
  using namespace ipattrib::collector;
  spdlog::set_default_logger(spdlog::stderr_color_mt("collector"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  std::string config_path;
  bool check_only = false;
  std::string policy_to_check;
  CLI::App app{"ipattrib-collector: receives agents' records and keeps the per-account IP ledger"};
  auto* config_option = app.add_option("--config", config_path, "collector.toml");
  app.add_option("--check-policy", policy_to_check, "validate a special-measures policy file, then exit")
      ->excludes(config_option);
  app.add_flag("--check-config", check_only,
               "validate the configuration (its TLS files readable, its policy file valid), then exit");
  CLI11_PARSE(app, argc, argv);
  if (!policy_to_check.empty()) return check_policy_file(policy_to_check, std::cout, std::cerr);
  if (config_path.empty()) {
    std::fprintf(stderr, "--config is required\n%s", app.help().c_str());
    return 2;
  }
  return run_collector(config_path, check_only);
}
