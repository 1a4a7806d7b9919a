#include "agent/ship/aggregator.h"

#include <algorithm>
#include <functional>
#include <utility>
#include <vector>

namespace ipattrib::agent {
namespace {

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  std::int64_t quotient = value / divisor;
  if ((value % divisor != 0) && ((value < 0) != (divisor < 0))) --quotient;
  return quotient;
}

// Cuts text to at most max_bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

RecordGeo to_record_geo(const GeoInfo& geo, std::size_t max_string_bytes) {
  RecordGeo out;
  out.country = std::string(geo.country.view());
  out.registered_country = std::string(geo.registered_country.view());
  out.subdivision = std::string(geo.subdivision.view());
  out.asn = geo.asn;
  // Informational text from the geo database: shortened rather than letting
  // it make the whole batch unsendable.
  out.as_org = std::string(cut_utf8(geo.as_org, max_string_bytes));
  out.anonymizer_flags = geo.anonymizer_flags;
  out.db_build_epoch = geo.db_build_epoch;
  return out;
}

}  // namespace

std::size_t Aggregator::KeyHash::operator()(const KeyView& key) const noexcept {
  std::size_t h = std::hash<std::string_view>()(key.account);
  auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(std::hash<std::string_view>()(key.principal));
  mix(IpAddressHash()(key.client_ip));
  mix((static_cast<std::size_t>(key.access_class) << 8) | static_cast<std::size_t>(key.ip_source));
  return h;
}

Aggregator::Aggregator(AggregatorOptions options, SequenceCounter* sequences, RecordBatchSink& sink)
    : options_(std::move(options)), sequences_(sequences), sink_(sink) {
  options_.flush_window_ms = std::max<std::uint32_t>(options_.flush_window_ms, 1);
  options_.max_records_per_window =
      std::clamp<std::uint32_t>(options_.max_records_per_window, 1, options_.limits.max_records_per_batch);
  index_.reserve(options_.max_records_per_window);
}

bool Aggregator::admit(const AccessEvent& event, std::string_view& account) {
  if (!event.has_account || event.account.empty()) {
    ++counters_.no_account;
    if (!options_.ship_unattributed) return false;
    ++counters_.unattributed_shipped;
    account = kUnattributedAccount;
  } else {
    account = event.account;
  }
  if (!event.client_ip.is_set()) {
    ++counters_.no_client_ip;
    return false;
  }
  // An account or principal the collector would refuse would make the whole
  // batch unsendable; cutting it would attribute the access to someone else.
  const std::size_t max = options_.limits.max_string_bytes;
  if (account.size() > max || event.principal.size() > max) {
    ++counters_.oversize_field;
    return false;
  }
  return true;
}

void Aggregator::on_access(const AccessEvent& event) {
  ++counters_.events;
  std::string_view account;
  if (!admit(event, account)) return;

  const std::int64_t ts_ms = floor_div(event.ts_us, 1000);
  if (!window_open_) {
    open_window_for(ts_ms);
  } else if (ts_ms >= window_start_ms_ + options_.flush_window_ms) {
    flush();
    open_window_for(ts_ms);
  } else if (ts_ms < window_start_ms_) {
    ++counters_.late_events;
  }

  const KeyView key{account, event.principal, event.client_ip, static_cast<RecordClass>(event.access_class),
                    static_cast<RecordIpSource>(event.ip_source)};
  if (window_accesses_ >= options_.limits.max_accesses_per_batch) flush_early();
  AttributionRecord* record = nullptr;
  if (auto it = index_.find(key); it != index_.end()) {
    record = it->second;
    if (record->access_times_ms.size() >= options_.limits.max_accesses_per_record) {
      flush_early();
      record = nullptr;
    }
  }
  if (record == nullptr) {
    if (records_.size() >= options_.max_records_per_window) flush_early();
    record = &find_or_add(key, event.geo);
  }
  record->access_times_ms.push_back(ts_ms);
  ++window_accesses_;
}

void Aggregator::open_window_for(std::int64_t ts_ms) {
  window_open_ = true;
  window_start_ms_ = floor_div(ts_ms, options_.flush_window_ms) * options_.flush_window_ms;
}

AttributionRecord& Aggregator::find_or_add(const KeyView& key, const GeoInfo& geo) {
  AttributionRecord& record = records_.emplace_back();
  record.account = std::string(key.account);
  record.principal = std::string(key.principal);
  record.client_ip = key.client_ip;
  record.access_class = key.access_class;
  record.ip_source = key.ip_source;
  record.gateway = options_.gateway;
  record.geo = to_record_geo(geo, options_.limits.max_string_bytes);
  const KeyView owned{record.account, record.principal, record.client_ip, record.access_class, record.ip_source};
  index_.emplace(owned, &record);
  return record;
}

void Aggregator::flush_due(std::int64_t now_ms) {
  if (window_open_ && now_ms >= window_start_ms_ + options_.flush_window_ms) {
    flush();
    window_open_ = false;
  }
}

void Aggregator::flush_all() {
  flush();
  window_open_ = false;
}

void Aggregator::flush_early() {
  ++counters_.early_flushes;
  flush();  // the window stays open: later events of the same window still belong to it
}

void Aggregator::flush() {
  index_.clear();
  window_accesses_ = 0;
  if (records_.empty()) return;
  RecordBatch batch;
  batch.agent_id = options_.agent_id;
  batch.sequence = sequences_ != nullptr ? sequences_->next_sequence() : 0;
  batch.records.reserve(records_.size());
  for (AttributionRecord& record : records_) {
    // Late events are the only reason a record is out of order.
    if (!std::is_sorted(record.access_times_ms.begin(), record.access_times_ms.end())) {
      std::sort(record.access_times_ms.begin(), record.access_times_ms.end());
    }
    counters_.accesses += record.access_times_ms.size();
    batch.records.push_back(std::move(record));
  }
  records_.clear();
  counters_.records += batch.records.size();
  ++counters_.batches;
  sink_.on_batch(std::move(batch));
}

void Aggregator::report(StatsSink& stats) const {
  stats.counter("aggregate.events", counters_.events);
  stats.counter("aggregate.no_account", counters_.no_account);
  stats.counter("aggregate.unattributed_shipped", counters_.unattributed_shipped);
  stats.counter("aggregate.no_client_ip", counters_.no_client_ip);
  stats.counter("aggregate.oversize_field", counters_.oversize_field);
  stats.counter("aggregate.late_events", counters_.late_events);
  stats.counter("aggregate.records", counters_.records);
  stats.counter("aggregate.accesses", counters_.accesses);
  stats.counter("aggregate.batches", counters_.batches);
  stats.counter("aggregate.early_flushes", counters_.early_flushes);
}

}  // namespace ipattrib::agent
