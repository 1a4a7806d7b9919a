// PolicyFileWatch: keeps the special-measures policy in force in step with
// its file. Reloaded on SIGHUP and when the file changes (polled from the
// collector's main loop); a file that does not validate keeps the policy in
// force and the log says why, line by line; new or changed measures start a
// retroactive scan so past accesses under them are alerted too.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "collector/alert_engine/alert_engine.h"
#include "collector/policy/policy_loader.h"
#include "ipattrib/config_errors.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::collector {

class PolicyFileWatch {
 public:
  PolicyFileWatch(std::string path, PolicyLoadOptions options, AlertEngine& engine, bool scan_on_change);

  // The first load, at start: false (with file:line errors) when the file
  // does not validate — the collector then refuses to start.
  bool load(ConfigErrors& errors);
  // Reloads now (SIGHUP, or poll() saw a change). `why` goes to the log.
  void reload(const char* why);
  // Reloads when the file's size, mtime or inode changed since the last load.
  void poll();
  const std::string& path() const { return path_; }
  // policy.reloads, policy.reload_failures (a file that did not validate:
  // the old policy stayed in force), policy.measures_active (gauge).
  void report(StatsSink& sink) const;

 private:
  struct FileStamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    std::int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp stamp() const;

  std::string path_;
  PolicyLoadOptions options_;
  AlertEngine& engine_;
  bool scan_on_change_;
  FileStamp loaded_;
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reload_failures_{0};
};

}  // namespace ipattrib::collector
