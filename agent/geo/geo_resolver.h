// GeoResolver: owns the agent's geo databases and publishes them as an
// immutable GeoDatabaseSet that worker threads share. Reload (SIGHUP) and
// check_for_changes() (a file replaced by geoipupdate) build a new set beside
// the old one and swap it in; workers pick it up through GeoCache without
// locking per lookup, and a database that fails to reopen keeps the old one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "agent/geo/geo_config.h"
#include "agent/geo/geo_database.h"
#include "ipattrib/geo_info.h"
#include "ipattrib/ip_address.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// One generation of open databases. Immutable; kept alive by every worker
// still using it, so views into its mapped files stay valid until then.
struct GeoDatabaseSet {
  std::uint64_t generation = 0;
  // In configured order; null where an optional database is missing.
  std::vector<std::shared_ptr<const GeoDatabase>> databases;

  // Fills info from every database (first answer per field wins). The
  // outcome's prefix is the longest of the databases' prefixes: the networks
  // they return all contain the address, so they nest, and the longest one is
  // their intersection — the block over which no database's answer changes.
  GeoLookupOutcome lookup(const IpAddress& address, GeoInfo& info) const;
};

class GeoResolver {
 public:
  explicit GeoResolver(GeoConfig config);
  GeoResolver(const GeoResolver&) = delete;
  GeoResolver& operator=(const GeoResolver&) = delete;

  // Opens every configured database. Fails, naming the path, if a required
  // one is missing, truncated, corrupt or of the wrong type; an optional one
  // is skipped with a warning (and picked up by check_for_changes later).
  Status open();
  // Reopens every database file (SIGHUP). A file that fails to open keeps its
  // old database; the error lists the failures. Drops worker caches.
  Status reload();
  // Cheap (one stat per file): reopens only databases whose file was
  // replaced. Returns true when a new set was published.
  bool check_for_changes();

  // The current set; workers call it when generation() changes.
  std::shared_ptr<const GeoDatabaseSet> snapshot() const;
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  const GeoConfig& config() const { return config_; }

  // geo.reloads, geo.reload_failures, geo.databases_open, geo.db_age_s
  // (age of the oldest open database, from its build epoch).
  void report_stats(StatsSink& sink) const;

 private:
  // Builds and publishes a new set; force reopens unchanged files too.
  Status refresh(bool force, bool* published);

  const GeoConfig config_;
  std::mutex refresh_mutex_;  // one refresh at a time
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const GeoDatabaseSet> current_;
  std::atomic<std::uint64_t> generation_{0};
  // Per database: the file identity that last failed to open, so a broken
  // file is reported once, not at every check.
  std::vector<std::optional<FileIdentity>> failed_identity_;
  std::vector<bool> missing_reported_;
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reload_failures_{0};
};

}  // namespace ipattrib::agent
