#include "common/wire/record_payload.h"

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "common/wire/byte_codec.h"

namespace ipattrib::wire {

namespace {

constexpr std::uint8_t kFamilyV4 = 4;
constexpr std::uint8_t kFamilyV6 = 6;
constexpr std::uint8_t kMaxIpSource = static_cast<std::uint8_t>(RecordIpSource::kXRealIp);
// The fewest bytes one record can take: 9 one-byte varint/u8 fields before
// the IP, a v4 address, 5 more one-byte fields, an access count and a first
// time. Used to refuse a record count the payload cannot hold before reserving.
constexpr std::size_t kMinRecordBytes = 3 + 1 + 4 + 2 + 3 + 1 + 1 + 1 + 1 + 1 + 1;

class StringTable {
 public:
  explicit StringTable(const WireLimits& limits) : limits_(limits) {}

  Status intern(std::string_view s, std::string_view field, std::uint32_t& index) {
    if (s.size() > limits_.max_string_bytes) {
      return Status::error(fmt::format("{} of {} bytes exceeds the string limit of {}", field, s.size(),
                                       limits_.max_string_bytes));
    }
    auto [it, inserted] = indexes_.try_emplace(s, static_cast<std::uint32_t>(strings_.size()));
    if (inserted) {
      if (strings_.size() >= limits_.max_strings_per_batch) {
        return Status::error(fmt::format("more than {} distinct strings in one batch", limits_.max_strings_per_batch));
      }
      strings_.push_back(s);
    }
    index = it->second;
    return Status::ok();
  }
  const std::vector<std::string_view>& strings() const { return strings_; }

 private:
  const WireLimits& limits_;
  std::unordered_map<std::string_view, std::uint32_t> indexes_;
  std::vector<std::string_view> strings_;
};

Status check_access_times(const AttributionRecord& record, std::size_t index, std::uint64_t& batch_accesses,
                          const WireLimits& limits) {
  const auto& times = record.access_times_ms;
  if (times.empty()) return Status::error(fmt::format("record {} has no access times", index));
  if (times.size() > limits.max_accesses_per_record) {
    return Status::error(fmt::format("record {} has {} access times, above the limit {}", index, times.size(),
                                     limits.max_accesses_per_record));
  }
  for (std::size_t i = 1; i < times.size(); ++i) {
    if (times[i] < times[i - 1]) return Status::error(fmt::format("record {} access times are not ascending", index));
  }
  batch_accesses += times.size();
  if (batch_accesses > limits.max_accesses_per_batch) {
    return Status::error(fmt::format("batch has more than {} access times", limits.max_accesses_per_batch));
  }
  return Status::ok();
}

Status check_record(const AttributionRecord& r, std::size_t index) {
  if (r.account.empty()) return Status::error(fmt::format("record {} has an empty account", index));
  if (!r.client_ip.is_set()) return Status::error(fmt::format("record {} has no client IP", index));
  if (static_cast<std::uint8_t>(r.access_class) > 1) {
    return Status::error(fmt::format("record {} has an invalid access class", index));
  }
  if (static_cast<std::uint8_t>(r.ip_source) > kMaxIpSource) {
    return Status::error(fmt::format("record {} has an invalid IP source", index));
  }
  return Status::ok();
}

// Every string field of a record, in wire order.
template <typename Record, typename Fn>
void for_each_string(Record& r, Fn&& fn) {
  fn(r.account, "account");
  fn(r.principal, "principal");
  fn(r.gateway, "gateway");
  fn(r.geo.country, "country");
  fn(r.geo.registered_country, "registered_country");
  fn(r.geo.subdivision, "subdivision");
  fn(r.geo.as_org, "as_org");
}

void write_ip(ByteWriter& w, const IpAddress& ip) {
  if (ip.is_v4()) {
    w.u8(kFamilyV4);
    w.bytes(std::span<const std::uint8_t>(ip.v4_bytes(), 4));
  } else {
    w.u8(kFamilyV6);
    w.bytes(ip.bytes());
  }
}

void write_record(ByteWriter& w, const AttributionRecord& r, const std::uint32_t (&idx)[7]) {
  w.varint(idx[0]);  // account
  w.varint(idx[1]);  // principal
  w.varint(idx[2]);  // gateway
  write_ip(w, r.client_ip);
  w.u8(static_cast<std::uint8_t>(r.access_class));
  w.u8(static_cast<std::uint8_t>(r.ip_source));
  w.varint(idx[3]);  // country
  w.varint(idx[4]);  // registered_country
  w.varint(idx[5]);  // subdivision
  w.varint(r.geo.asn);
  w.varint(idx[6]);  // as_org
  w.u8(r.geo.anonymizer_flags);
  w.svarint(r.geo.db_build_epoch);
  const auto& times = r.access_times_ms;
  w.varint(times.size());
  w.svarint(times[0]);
  for (std::size_t i = 1; i < times.size(); ++i) {
    w.varint(static_cast<std::uint64_t>(times[i]) - static_cast<std::uint64_t>(times[i - 1]));
  }
}

}  // namespace

Status encode_record_payload(const std::vector<AttributionRecord>& records, std::vector<std::uint8_t>& out,
                             const WireLimits& limits) {
  if (records.size() > limits.max_records_per_batch) {
    return Status::error(
        fmt::format("batch has {} records, above the limit {}", records.size(), limits.max_records_per_batch));
  }
  StringTable table(limits);
  std::vector<std::uint32_t> indexes;
  indexes.reserve(records.size() * 7);
  std::uint64_t batch_accesses = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (Status s = check_record(records[i], i); !s) return s;
    if (Status s = check_access_times(records[i], i, batch_accesses, limits); !s) return s;
    Status status;
    for_each_string(records[i], [&](const std::string& s, std::string_view field) {
      std::uint32_t index = 0;
      if (status) status = table.intern(s, field, index);
      indexes.push_back(index);
    });
    if (!status) return Status::error(fmt::format("record {}: {}", i, status.message()));
  }
  ByteWriter w(out);
  w.varint(table.strings().size());
  for (std::string_view s : table.strings()) w.string(s);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::uint32_t* p = &indexes[i * 7];
    const std::uint32_t idx[7] = {p[0], p[1], p[2], p[3], p[4], p[5], p[6]};
    write_record(w, records[i], idx);
  }
  return Status::ok();
}

namespace {

class PayloadDecoder {
 public:
  PayloadDecoder(std::span<const std::uint8_t> payload, const WireLimits& limits) : r_(payload), limits_(limits) {}

  Status decode(std::uint32_t record_count, std::vector<AttributionRecord>& records) {
    records.clear();
    if (!read_string_table()) return r_.status();
    if (record_count > r_.remaining() / kMinRecordBytes) {
      return Status::error(fmt::format("record count {} cannot fit in the {} payload bytes left", record_count,
                                       r_.remaining()));
    }
    records.resize(record_count);
    for (std::uint32_t i = 0; i < record_count; ++i) {
      if (!read_record(records[i])) {
        records.clear();
        return Status::error(fmt::format("record {}: {}", i, r_.status().message()));
      }
    }
    if (!r_.expect_end("the last record")) {
      records.clear();
      return r_.status();
    }
    return Status::ok();
  }

 private:
  bool read_string_table() {
    std::uint64_t count = 0;
    if (!r_.bounded(count, limits_.max_strings_per_batch, "string table count")) return false;
    // Every entry takes at least its one-byte length.
    if (count > r_.remaining()) return r_.fail(fmt::format("string table count {} exceeds the payload", count));
    strings_.resize(static_cast<std::size_t>(count));
    for (auto& s : strings_) {
      if (!r_.string(s, limits_.max_string_bytes, "string table entry")) return false;
    }
    return true;
  }

  bool read_string(std::string& out, std::string_view field) {
    std::uint64_t index = 0;
    if (!r_.varint(index, field)) return false;
    if (index >= strings_.size()) {
      return r_.fail(fmt::format("{} refers to string {} of a table of {}", field, index, strings_.size()));
    }
    out = strings_[static_cast<std::size_t>(index)];
    return true;
  }

  bool read_ip(IpAddress& ip) {
    std::uint8_t family = 0;
    std::span<const std::uint8_t> raw;
    if (!r_.u8(family, "ip family")) return false;
    if (family == kFamilyV4) {
      if (!r_.bytes(4, raw, "IPv4 address")) return false;
      ip = IpAddress::from_v4_bytes(raw.data());
    } else if (family == kFamilyV6) {
      if (!r_.bytes(16, raw, "IPv6 address")) return false;
      ip = IpAddress::from_v6_bytes(raw.data());
    } else {
      return r_.fail(fmt::format("unknown ip family {}", family));
    }
    return true;
  }

  bool read_enums(AttributionRecord& rec) {
    std::uint8_t access_class = 0;
    std::uint8_t ip_source = 0;
    if (!r_.u8(access_class, "access_class") || !r_.u8(ip_source, "ip_source")) return false;
    if (access_class > 1) return r_.fail(fmt::format("unknown access class {}", access_class));
    if (ip_source > kMaxIpSource) return r_.fail(fmt::format("unknown ip source {}", ip_source));
    rec.access_class = static_cast<RecordClass>(access_class);
    rec.ip_source = static_cast<RecordIpSource>(ip_source);
    return true;
  }

  bool read_geo(RecordGeo& geo) {
    std::uint64_t asn = 0;
    if (!read_string(geo.country, "country") || !read_string(geo.registered_country, "registered_country") ||
        !read_string(geo.subdivision, "subdivision") || !r_.bounded(asn, UINT32_MAX, "asn") ||
        !read_string(geo.as_org, "as_org") || !r_.u8(geo.anonymizer_flags, "anonymizer_flags") ||
        !r_.svarint(geo.db_build_epoch, "db_build_epoch")) {
      return false;
    }
    geo.asn = static_cast<std::uint32_t>(asn);
    return true;
  }

  bool read_access_times(std::vector<std::int64_t>& times) {
    std::uint64_t count = 0;
    if (!r_.bounded(count, limits_.max_accesses_per_record, "access count")) return false;
    if (count == 0) return r_.fail("access count is 0");
    accesses_ += count;
    if (accesses_ > limits_.max_accesses_per_batch) {
      return r_.fail(fmt::format("batch has more than {} access times", limits_.max_accesses_per_batch));
    }
    std::int64_t first = 0;
    if (!r_.svarint(first, "first access time")) return false;
    // Each delta takes at least one byte.
    if (count - 1 > r_.remaining()) return r_.fail(fmt::format("access count {} exceeds the payload", count));
    times.clear();
    times.reserve(static_cast<std::size_t>(count));
    times.push_back(first);
    for (std::uint64_t i = 1; i < count; ++i) {
      std::uint64_t delta = 0;
      if (!r_.varint(delta, "access time delta")) return false;
      const std::int64_t previous = times.back();
      // Modular arithmetic gives the true headroom for any previous value.
      const std::uint64_t headroom = static_cast<std::uint64_t>(INT64_MAX) - static_cast<std::uint64_t>(previous);
      if (delta > headroom) return r_.fail("access time overflows");
      times.push_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(previous) + delta));
    }
    return true;
  }

  bool read_record(AttributionRecord& rec) {
    if (!read_string(rec.account, "account") || !read_string(rec.principal, "principal") ||
        !read_string(rec.gateway, "gateway") || !read_ip(rec.client_ip) || !read_enums(rec) || !read_geo(rec.geo) ||
        !read_access_times(rec.access_times_ms)) {
      return false;
    }
    if (rec.account.empty()) return r_.fail("account is empty");
    return true;
  }

  ByteReader r_;
  const WireLimits& limits_;
  std::vector<std::string> strings_;
  std::uint64_t accesses_ = 0;
};

}  // namespace

Status decode_record_payload(std::span<const std::uint8_t> payload, std::uint32_t record_count,
                             std::vector<AttributionRecord>& records, const WireLimits& limits) {
  return PayloadDecoder(payload, limits).decode(record_count, records);
}

}  // namespace ipattrib::wire
