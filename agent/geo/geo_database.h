// GeoDatabase: one MaxMind DB file, memory-mapped read-only, with the kind of
// answers it gives (country/city, ASN, anonymous IP) and the record paths they
// are read from. Immutable once opened, so worker threads share it freely; the
// resolver swaps whole sets of them on reload.
#pragma once

#include <maxminddb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/geo/geo_config.h"
#include "ipattrib/geo_info.h"
#include "ipattrib/ip_address.h"
#include "ipattrib/status.h"

namespace ipattrib::agent {

// Which file a path named when it was opened: geoipupdate replaces a database
// by writing a new file and renaming it, which changes inode and mtime.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  static std::optional<FileIdentity> of(const std::string& path);
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

// Result of looking one address up in one database.
struct GeoLookupOutcome {
  // Every address of the address's family sharing this many leading bits
  // with it (0-32 for IPv4, 0-128 for IPv6) gets the same answer.
  int prefix_length = 0;
  bool failed = false;  // the database returned an error; the answer may be incomplete
};

class GeoDatabase {
 public:
  // Opens, identifies and validates config.path (a test lookup and a decode
  // of its first record). Errors name the path and say what is wrong.
  static Status open(const GeoDatabaseConfig& config, std::shared_ptr<const GeoDatabase>* out);

  GeoDatabase(const GeoDatabase&) = delete;
  GeoDatabase& operator=(const GeoDatabase&) = delete;
  ~GeoDatabase();

  // Fills the fields of info this database answers and info does not have
  // yet. Does not allocate; as_org points into the mapped file.
  GeoLookupOutcome lookup(const IpAddress& address, GeoInfo& info) const;

  const std::string& path() const { return path_; }
  GeoDatabaseKind kind() const { return kind_; }
  const std::string& database_type() const { return database_type_; }
  std::int64_t build_epoch() const { return build_epoch_; }
  const FileIdentity& identity() const { return identity_; }
  // "flat" ({"country_code": ...}) or "maxmind" (nested GeoIP2 records).
  const std::string& schema() const { return schema_; }

 private:
  // A lookup path as MMDB_aget_value wants it: NULL-terminated C strings.
  struct Path {
    std::vector<std::string> keys;
    std::vector<const char*> c_keys;
    void assign(std::vector<std::string> k);
    bool empty() const { return keys.empty(); }
  };

  GeoDatabase() = default;
  Status identify(const GeoDatabaseConfig& config);
  Status validate() const;
  bool read_string(MMDB_entry_s& entry, const Path& path, std::string_view* out, bool* failed) const;
  bool read_uint(MMDB_entry_s& entry, const Path& path, std::uint64_t* out, bool* failed) const;
  bool read_bool(MMDB_entry_s& entry, const char* key, bool* failed) const;
  void fill_country(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const;
  void fill_asn(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const;
  void fill_anonymizer(MMDB_entry_s& entry, GeoInfo& info, bool* failed) const;

  MMDB_s mmdb_{};
  bool opened_ = false;
  std::string path_;
  GeoDatabaseKind kind_ = GeoDatabaseKind::kAuto;
  std::string database_type_;
  std::string schema_;
  std::int64_t build_epoch_ = 0;
  FileIdentity identity_;
  Path country_;
  Path registered_country_;
  Path subdivision_;
  Path asn_;
  Path as_org_;
  bool anonymizer_ = false;
};

}  // namespace ipattrib::agent
