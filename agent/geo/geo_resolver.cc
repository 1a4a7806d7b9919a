#include "agent/geo/geo_resolver.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace ipattrib::agent {
namespace {

constexpr std::int64_t kStaleAfterS = 30 * 86400;  // MaxMind's licence wants current data

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void log_opened(const GeoDatabase& db) {
  const std::int64_t age_s = now_s() - db.build_epoch();
  spdlog::info("geo: opened {} (type '{}', {} kind, {} schema, built {} days ago)", db.path(), db.database_type(),
               to_string(db.kind()), db.schema(), age_s / 86400);
  if (age_s > kStaleAfterS) {
    spdlog::warn("geo: {} was built {} days ago; geo answers may be out of date — update it (geoipupdate)", db.path(),
                 age_s / 86400);
  }
}

}  // namespace

GeoLookupOutcome GeoDatabaseSet::lookup(const IpAddress& address, GeoInfo& info) const {
  GeoLookupOutcome outcome;
  const GeoDatabase* first_country = nullptr;
  for (const auto& db : databases) {
    if (!db) continue;
    if (first_country == nullptr && db->kind() == GeoDatabaseKind::kCountry) first_country = db.get();
    const GeoLookupOutcome one = db->lookup(address, info);
    outcome.prefix_length = std::max(outcome.prefix_length, one.prefix_length);
    outcome.failed = outcome.failed || one.failed;
  }
  // Even an unknown country says which data it is unknown in.
  if (info.db_build_epoch == 0 && first_country != nullptr) info.db_build_epoch = first_country->build_epoch();
  return outcome;
}

GeoResolver::GeoResolver(GeoConfig config)
    : config_(std::move(config)),
      current_(std::make_shared<GeoDatabaseSet>()),
      failed_identity_(config_.databases.size()),
      missing_reported_(config_.databases.size(), false) {}

Status GeoResolver::open() {
  std::lock_guard lock(refresh_mutex_);
  auto set = std::make_shared<GeoDatabaseSet>();
  std::string errors;
  for (const GeoDatabaseConfig& db_config : config_.databases) {
    std::shared_ptr<const GeoDatabase> db;
    Status s = GeoDatabase::open(db_config, &db);
    if (!s) {
      if (db_config.optional) {
        spdlog::warn("geo: optional database skipped: {}", s.message());
      } else {
        errors += errors.empty() ? s.message() : "; " + s.message();
      }
    } else {
      log_opened(*db);
    }
    set->databases.push_back(std::move(db));
  }
  if (!errors.empty()) return Status::error(errors);
  std::lock_guard snapshot_lock(snapshot_mutex_);
  set->generation = generation_.load(std::memory_order_relaxed) + 1;
  current_ = std::move(set);
  generation_.store(current_->generation, std::memory_order_release);
  return Status::ok();
}

Status GeoResolver::reload() {
  bool published = false;
  return refresh(/*force=*/true, &published);
}

bool GeoResolver::check_for_changes() {
  bool published = false;
  (void)refresh(/*force=*/false, &published);
  return published;
}

Status GeoResolver::refresh(bool force, bool* published) {
  std::lock_guard lock(refresh_mutex_);
  const std::shared_ptr<const GeoDatabaseSet> old = snapshot();
  auto set = std::make_shared<GeoDatabaseSet>();
  bool changed = false;
  std::string errors;
  for (std::size_t i = 0; i < config_.databases.size(); ++i) {
    const GeoDatabaseConfig& db_config = config_.databases[i];
    std::shared_ptr<const GeoDatabase> current = i < old->databases.size() ? old->databases[i] : nullptr;
    const std::optional<FileIdentity> identity = FileIdentity::of(db_config.path);
    if (identity) missing_reported_[i] = false;
    const bool replaced = identity && (!current || !(current->identity() == *identity));
    const bool known_bad = identity && failed_identity_[i] && *failed_identity_[i] == *identity;
    if (!identity) {
      // geoipupdate renames over the file, so it never vanishes; keep serving
      // what is open and say so once per disappearance.
      if (force || (!missing_reported_[i] && (current || !db_config.optional))) {
        spdlog::error("geo: {} is missing; keeping the database already open", db_config.path);
        reload_failures_.fetch_add(1, std::memory_order_relaxed);
        errors += fmt::format("{}{}: missing", errors.empty() ? "" : "; ", db_config.path);
      }
      missing_reported_[i] = true;
    } else if (force || (replaced && !known_bad)) {
      std::shared_ptr<const GeoDatabase> fresh;
      if (Status s = GeoDatabase::open(db_config, &fresh); s) {
        log_opened(*fresh);
        current = std::move(fresh);
        failed_identity_[i].reset();
        changed = true;
      } else {
        spdlog::error("geo: reload failed, keeping the database already open: {}", s.message());
        reload_failures_.fetch_add(1, std::memory_order_relaxed);
        failed_identity_[i] = identity;
        errors += (errors.empty() ? "" : "; ") + s.message();
      }
    }
    set->databases.push_back(std::move(current));
  }
  if (changed) {
    std::lock_guard snapshot_lock(snapshot_mutex_);
    set->generation = old->generation + 1;
    current_ = std::move(set);
    generation_.store(current_->generation, std::memory_order_release);
    reloads_.fetch_add(1, std::memory_order_relaxed);
    *published = true;
  }
  if (!errors.empty()) return Status::error(errors);
  return Status::ok();
}

std::shared_ptr<const GeoDatabaseSet> GeoResolver::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return current_;
}

void GeoResolver::report_stats(StatsSink& sink) const {
  const auto set = snapshot();
  std::uint64_t open_count = 0;
  std::int64_t oldest_epoch = 0;
  for (const auto& db : set->databases) {
    if (!db) continue;
    ++open_count;
    if (oldest_epoch == 0 || db->build_epoch() < oldest_epoch) oldest_epoch = db->build_epoch();
  }
  sink.counter("geo.reloads", reloads_.load(std::memory_order_relaxed));
  sink.counter("geo.reload_failures", reload_failures_.load(std::memory_order_relaxed));
  sink.counter("geo.databases_open", open_count);
  if (oldest_epoch > 0)
    sink.counter("geo.db_age_s", static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_s() - oldest_epoch)));
}

}  // namespace ipattrib::agent
