#include "agent/geo/geo_database.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ipattrib::agent {
namespace {

struct AnonymizerKey {
  const char* key;
  std::uint8_t flag;
};
constexpr std::array<AnonymizerKey, 6> kAnonymizerKeys = {{
    {"is_anonymous", kAnonymous},
    {"is_anonymous_vpn", kAnonymousVpn},
    {"is_hosting_provider", kHostingProvider},
    {"is_public_proxy", kPublicProxy},
    {"is_residential_proxy", kResidentialProxy},
    {"is_tor_exit_node", kTorExitNode},
}};

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != haystack.npos;
}

// The kind a database_type names, if it names one. Community databases such as
// "geo-whois-asn-country" mention "asn" (their source) but answer countries,
// so country/city is tested first.
std::optional<GeoDatabaseKind> kind_from_type(std::string_view database_type) {
  const std::string type = lowercase(database_type);
  if (contains(type, "anonymous-ip") || contains(type, "anonymous_ip") || contains(type, "anonymous ip")) {
    return GeoDatabaseKind::kAnonymousIp;
  }
  if (contains(type, "city") || contains(type, "country") || contains(type, "enterprise")) {
    return GeoDatabaseKind::kCountry;
  }
  if (contains(type, "asn") || contains(type, "isp")) return GeoDatabaseKind::kAsn;
  return std::nullopt;
}

bool is_v4_mapped(const IpAddress& address) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(address.bytes().data(), kPrefix, sizeof(kPrefix)) == 0;
}

bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}
char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

// A two-letter ISO 3166-1 code, or unknown for anything else.
CountryCode to_country(std::string_view s) {
  CountryCode code;
  if (s.size() == 2 && is_alpha(s[0]) && is_alpha(s[1])) {
    code.code[0] = upper(s[0]);
    code.code[1] = upper(s[1]);
  }
  return code;
}

// "CC-XX" from a country and a subdivision code that is either "XX" or
// already "CC-XX" (at most 6 characters after the dash, as ISO 3166-2 needs).
SubdivisionCode to_subdivision(const CountryCode& country, std::string_view sub) {
  SubdivisionCode out;
  if (!country.known()) return out;
  if (sub.size() > 3 && sub[2] == '-' && to_country(sub.substr(0, 2)) == country) sub.remove_prefix(3);
  if (sub.empty() || sub.size() > 6 || !std::all_of(sub.begin(), sub.end(), is_alnum)) return out;
  out.code[0] = country.code[0];
  out.code[1] = country.code[1];
  out.code[2] = '-';
  for (std::size_t i = 0; i < sub.size(); ++i) out.code[3 + i] = upper(sub[i]);
  return out;
}

// An error that means "this record has no such field", not a broken file.
bool is_absent(int mmdb_status) {
  return mmdb_status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || mmdb_status == MMDB_INVALID_LOOKUP_PATH_ERROR;
}

// Decodes a whole record: proof that its bytes are well-formed.
Status decode_record(MMDB_entry_s& entry, bool* is_nonempty_map) {
  MMDB_entry_data_list_s* list = nullptr;
  const int status = MMDB_get_entry_data_list(&entry, &list);
  if (status == MMDB_SUCCESS && list != nullptr && is_nonempty_map != nullptr) {
    *is_nonempty_map = list->entry_data.type == MMDB_DATA_TYPE_MAP && list->entry_data.data_size > 0;
  }
  MMDB_free_entry_data_list(list);
  if (status != MMDB_SUCCESS) return Status::error(fmt::format("undecodable record: {}", MMDB_strerror(status)));
  return Status::ok();
}

// The first non-empty record in tree order: what a record of this database
// looks like. Bounded walk; nullopt if none is found.
Status first_record(MMDB_s& mmdb, std::optional<MMDB_entry_s>* out) {
  std::vector<std::uint32_t> stack{0};
  for (int visits = 0; !stack.empty() && visits < 100000; ++visits) {
    const std::uint32_t node_number = stack.back();
    stack.pop_back();
    MMDB_search_node_s node;
    const int status = MMDB_read_node(&mmdb, node_number, &node);
    if (status != MMDB_SUCCESS) return Status::error(fmt::format("bad search tree: {}", MMDB_strerror(status)));
    const std::pair<std::uint8_t, std::pair<std::uint64_t, MMDB_entry_s>> sides[2] = {
        {node.left_record_type, {node.left_record, node.left_record_entry}},
        {node.right_record_type, {node.right_record, node.right_record_entry}}};
    for (const auto& [type, record] : sides) {
      if (type == MMDB_RECORD_TYPE_INVALID) return Status::error("bad search tree: record points outside the file");
      if (type != MMDB_RECORD_TYPE_DATA) continue;
      MMDB_entry_s entry = record.second;
      bool nonempty = false;
      if (Status s = decode_record(entry, &nonempty); !s) return s;
      if (nonempty) {
        *out = entry;
        return Status::ok();
      }
    }
    if (sides[1].first == MMDB_RECORD_TYPE_SEARCH_NODE)
      stack.push_back(static_cast<std::uint32_t>(sides[1].second.first));
    if (sides[0].first == MMDB_RECORD_TYPE_SEARCH_NODE)
      stack.push_back(static_cast<std::uint32_t>(sides[0].second.first));
  }
  *out = std::nullopt;
  return Status::ok();
}

bool has_key(MMDB_entry_s entry, const char* key) {
  MMDB_entry_data_s data;
  return MMDB_get_value(&entry, &data, key, nullptr) == MMDB_SUCCESS && data.has_data;
}

}  // namespace

std::optional<FileIdentity> FileIdentity::of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return id;
}

void GeoDatabase::Path::assign(std::vector<std::string> k) {
  keys = std::move(k);
  c_keys.clear();
  for (const auto& key : keys) c_keys.push_back(key.c_str());
  c_keys.push_back(nullptr);
}

GeoDatabase::~GeoDatabase() {
  if (opened_) MMDB_close(&mmdb_);
}

Status GeoDatabase::open(const GeoDatabaseConfig& config, std::shared_ptr<const GeoDatabase>* out) {
  std::shared_ptr<GeoDatabase> db(new GeoDatabase());
  db->path_ = config.path;
  const auto identity = FileIdentity::of(config.path);
  if (!identity) {
    return Status::error(fmt::format("geo database {}: cannot open: {}", config.path, std::strerror(errno)));
  }
  db->identity_ = *identity;
  const int status = MMDB_open(config.path.c_str(), MMDB_MODE_MMAP, &db->mmdb_);
  if (status != MMDB_SUCCESS) {
    std::string reason = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR) reason += fmt::format(" ({})", std::strerror(errno));
    if (status == MMDB_INVALID_METADATA_ERROR || status == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR) {
      reason += " — truncated, corrupt, or not a MaxMind DB file";
    }
    return Status::error(fmt::format("geo database {}: {}", config.path, reason));
  }
  db->opened_ = true;
  db->database_type_ = db->mmdb_.metadata.database_type != nullptr ? db->mmdb_.metadata.database_type : "";
  db->build_epoch_ = static_cast<std::int64_t>(db->mmdb_.metadata.build_epoch);
  if (Status s = db->identify(config); !s) return s;
  if (Status s = db->validate(); !s) return s;
  *out = std::move(db);
  return Status::ok();
}

// Picks kind and lookup paths from config, database_type and record shape.
Status GeoDatabase::identify(const GeoDatabaseConfig& config) {
  std::optional<MMDB_entry_s> sample;
  if (Status s = first_record(mmdb_, &sample); !s)
    return Status::error(fmt::format("geo database {}: {}", path_, s.message()));

  std::optional<GeoDatabaseKind> from_type = kind_from_type(database_type_);
  std::optional<GeoDatabaseKind> from_record;
  if (sample) {
    if (has_key(*sample, "country_code") || has_key(*sample, "country")) {
      from_record = GeoDatabaseKind::kCountry;
    } else if (has_key(*sample, "autonomous_system_number")) {
      from_record = GeoDatabaseKind::kAsn;
    } else if (has_key(*sample, "is_anonymous")) {
      from_record = GeoDatabaseKind::kAnonymousIp;
    }
  }
  if (config.kind != GeoDatabaseKind::kAuto) {
    if (from_type && *from_type != config.kind) {
      return Status::error(
          fmt::format("geo database {}: database_type '{}' is a {} database, but kind = \"{}\" is configured", path_,
                      database_type_, to_string(*from_type), to_string(config.kind)));
    }
    kind_ = config.kind;
  } else if (from_type) {
    kind_ = *from_type;
  } else if (from_record) {
    kind_ = *from_record;
  } else {
    return Status::error(
        fmt::format("geo database {}: cannot tell what it answers from database_type '{}' or its records; set kind",
                    path_, database_type_));
  }

  // MaxMind's nested records unless the records are flat community ones.
  const bool flat = sample ? has_key(*sample, "country_code") && !has_key(*sample, "country")
                           : !(database_type_.starts_with("GeoIP") || database_type_.starts_with("GeoLite") ||
                               database_type_.starts_with("DBIP"));
  schema_ = flat ? "flat" : "maxmind";
  const GeoLookupPaths& p = config.paths;
  if (kind_ == GeoDatabaseKind::kCountry) {
    country_.assign(p.country.value_or(flat ? std::vector<std::string>{"country_code"}
                                            : std::vector<std::string>{"country", "iso_code"}));
    if (!flat || p.registered_country) {
      registered_country_.assign(
          p.registered_country.value_or(std::vector<std::string>{"registered_country", "iso_code"}));
    }
    if (!flat || p.subdivision) {
      subdivision_.assign(p.subdivision.value_or(std::vector<std::string>{"subdivisions", "0", "iso_code"}));
    }
  } else if (p.country) {
    country_.assign(*p.country);
  }
  if (kind_ == GeoDatabaseKind::kAsn || p.asn) {
    asn_.assign(p.asn.value_or(std::vector<std::string>{"autonomous_system_number"}));
    as_org_.assign(p.as_org.value_or(std::vector<std::string>{"autonomous_system_organization"}));
  }
  anonymizer_ = kind_ == GeoDatabaseKind::kAnonymousIp;
  return Status::ok();
}

// A database that opens may still be broken inside; look a few addresses up
// and decode what they find before it replaces a working one.
Status GeoDatabase::validate() const {
  static constexpr const char* kV4Probes[] = {"1.1.1.1", "8.8.8.8", "81.2.69.142"};
  static constexpr const char* kV6Probes[] = {"2001:4860:4860::8888", "2a02:cf40::1"};
  auto probe = [&](const char* text) -> Status {
    int gai_error = 0;
    int mmdb_error = 0;
    MMDB_lookup_result_s result = MMDB_lookup_string(&mmdb_, text, &gai_error, &mmdb_error);
    if (gai_error != 0 || mmdb_error != MMDB_SUCCESS) {
      return Status::error(fmt::format("geo database {}: test lookup of {} failed: {}", path_, text,
                                       mmdb_error != MMDB_SUCCESS ? MMDB_strerror(mmdb_error) : "bad address"));
    }
    if (!result.found_entry) return Status::ok();
    if (Status s = decode_record(result.entry, nullptr); !s) {
      return Status::error(fmt::format("geo database {}: test lookup of {}: {}", path_, text, s.message()));
    }
    return Status::ok();
  };
  for (const char* text : kV4Probes) {
    if (Status s = probe(text); !s) return s;
  }
  if (mmdb_.metadata.ip_version == 6) {
    for (const char* text : kV6Probes) {
      if (Status s = probe(text); !s) return s;
    }
  }
  return Status::ok();
}

GeoLookupOutcome GeoDatabase::lookup(const IpAddress& address, GeoInfo& info) const {
  const bool v4 = address.is_v4() || is_v4_mapped(address);
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  const sockaddr* sa;
  if (v4) {
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, address.v4_bytes(), 4);
    sa = reinterpret_cast<const sockaddr*>(&sin);
  } else {
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, address.bytes().data(), 16);
    sa = reinterpret_cast<const sockaddr*>(&sin6);
  }
  const int full_length = v4 ? 32 : 128;
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb_, sa, &mmdb_error);
  if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) return {0, false};  // knows no IPv6 at all
  if (mmdb_error != MMDB_SUCCESS) return {full_length, true};
  // libmaxminddb counts bits in the tree's address space: IPv4 sits below
  // ::/96 in an IPv6 tree.
  int prefix = result.netmask;
  if (v4 && mmdb_.metadata.ip_version == 6) prefix = std::max(0, prefix - 96);
  prefix = std::clamp(prefix, 0, full_length);
  if (!result.found_entry) return {prefix, false};

  bool failed = false;
  if (!country_.empty()) fill_country(result.entry, info, &failed);
  if (!asn_.empty()) fill_asn(result.entry, info, &failed);
  if (anonymizer_) fill_anonymizer(result.entry, info, &failed);
  return {prefix, failed};
}

void GeoDatabase::fill_country(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const {
  std::string_view text;
  const CountryCode country = read_string(entry, country_, &text, failed) ? to_country(text) : CountryCode{};
  if (country.known() && !info.country.known()) {
    info.country = country;
    info.db_build_epoch = build_epoch_;
  }
  if (!registered_country_.empty() && !info.registered_country.known() &&
      read_string(entry, registered_country_, &text, failed)) {
    info.registered_country = to_country(text);
  }
  if (!subdivision_.empty() && !info.subdivision.known() && read_string(entry, subdivision_, &text, failed)) {
    info.subdivision = to_subdivision(country, text);
  }
}

void GeoDatabase::fill_asn(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const {
  if (info.asn != 0) return;  // ASN and organisation come from the same record
  std::uint64_t asn = 0;
  if (!read_uint(entry, asn_, &asn, failed) || asn == 0 || asn > UINT32_MAX) return;
  info.asn = static_cast<std::uint32_t>(asn);
  std::string_view org;
  info.as_org = (!as_org_.empty() && read_string(entry, as_org_, &org, failed)) ? org : std::string_view();
}

void GeoDatabase::fill_anonymizer(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const {
  for (const auto& [key, flag] : kAnonymizerKeys) {
    if (read_bool(entry, key, failed)) info.anonymizer_flags |= flag;
  }
}

bool GeoDatabase::read_string(MMDB_entry_s& entry, const Path& path, std::string_view* out, bool* failed) const {
  MMDB_entry_data_s data;
  const int status = MMDB_aget_value(&entry, &data, path.c_keys.data());
  if (status != MMDB_SUCCESS) {
    if (!is_absent(status)) *failed = true;
    return false;
  }
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return false;
  *out = std::string_view(data.utf8_string, data.data_size);
  return true;
}

bool GeoDatabase::read_uint(MMDB_entry_s& entry, const Path& path, std::uint64_t* out, bool* failed) const {
  MMDB_entry_data_s data;
  const int status = MMDB_aget_value(&entry, &data, path.c_keys.data());
  if (status != MMDB_SUCCESS) {
    if (!is_absent(status)) *failed = true;
    return false;
  }
  if (!data.has_data) return false;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16: *out = data.uint16; return true;
    case MMDB_DATA_TYPE_UINT32: *out = data.uint32; return true;
    case MMDB_DATA_TYPE_UINT64: *out = data.uint64; return true;
    case MMDB_DATA_TYPE_INT32:
      if (data.int32 < 0) return false;
      *out = static_cast<std::uint64_t>(data.int32);
      return true;
    default: return false;
  }
}

bool GeoDatabase::read_bool(MMDB_entry_s& entry, const char* key, bool* failed) const {
  const char* path[] = {key, nullptr};
  MMDB_entry_data_s data;
  const int status = MMDB_aget_value(&entry, &data, path);
  if (status != MMDB_SUCCESS) {
    if (!is_absent(status)) *failed = true;
    return false;
  }
  return data.has_data && data.type == MMDB_DATA_TYPE_BOOLEAN && data.boolean;
}

}  // namespace ipattrib::agent
