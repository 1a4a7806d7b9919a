#include "collector/alert_engine/policy_file_watch.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

namespace ipattrib::collector {

PolicyFileWatch::PolicyFileWatch(std::string path, PolicyLoadOptions options, AlertEngine& engine,
                                 bool scan_on_change)
    : path_(std::move(path)), options_(std::move(options)), engine_(engine), scan_on_change_(scan_on_change) {}

PolicyFileWatch::FileStamp PolicyFileWatch::stamp() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

bool PolicyFileWatch::load(ConfigErrors& errors) {
  const FileStamp before = stamp();
  std::optional<SpecialMeasuresPolicy> policy = load_policy_file(path_, errors, options_);
  if (!policy) return false;
  spdlog::info("special measures: {} measures in force from {}", policy->measures.size(), path_);
  engine_.set_policy(std::make_shared<const PolicyEvaluator>(std::move(*policy)));
  loaded_ = before;
  return true;
}

void PolicyFileWatch::reload(const char* why) {
  const FileStamp before = stamp();
  loaded_ = before;  // a bad file is reported once, not at every poll
  ConfigErrors errors(path_);
  std::optional<SpecialMeasuresPolicy> policy = load_policy_file(path_, errors, options_);
  auto previous = engine_.policy();
  if (!policy) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("special measures: {} ({}) not reloaded; the {} measures loaded before stay in force:\n{}", path_,
                  why, previous ? previous->policy().measures.size() : 0, errors.to_string());
    return;
  }
  std::vector<std::string> changed =
      previous ? added_or_changed_measures(previous->policy(), *policy) : std::vector<std::string>{};
  const std::size_t count = policy->measures.size();
  reloads_.fetch_add(1, std::memory_order_relaxed);
  engine_.set_policy(std::make_shared<const PolicyEvaluator>(std::move(*policy)));
  spdlog::info("special measures: {} reloaded ({}): {} measures in force, new or changed: {}", path_, why, count,
               changed.empty() ? "none" : fmt::format("{}", fmt::join(changed, ", ")));
  if (scan_on_change_ && !changed.empty() && !engine_.start_scan(changed)) {
    spdlog::warn("special measures: a retroactive scan is still running; run `ipattribctl scan` for {} when it ends",
                 fmt::join(changed, ", "));
  }
}

void PolicyFileWatch::report(StatsSink& sink) const {
  sink.counter("policy.reloads", reloads_.load(std::memory_order_relaxed));
  sink.counter("policy.reload_failures", reload_failures_.load(std::memory_order_relaxed));
  auto evaluator = engine_.policy();
  sink.counter("policy.measures_active", evaluator ? evaluator->policy().measures.size() : 0);
}

void PolicyFileWatch::poll() {
  if (stamp() != loaded_) reload("file changed");
}

}  // namespace ipattrib::collector
