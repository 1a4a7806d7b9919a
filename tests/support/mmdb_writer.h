// MmdbWriter: writes small MaxMind DB (.mmdb) files for tests, so geo code can
// be tested with exactly the records a test needs (an address in a sanctioned
// country, a subdivision, a Tor exit) without third-party data. Follows the
// public MaxMind DB format spec 2.0: a binary search tree over IPv6 (IPv4
// networks live at ::a.b.c.d/96+n, where libmaxminddb looks IPv4 up) or IPv4,
// a data section, and a metadata map.
//
//   MmdbWriter writer;
//   writer.add("5.62.0.0/16", MmdbValue::map({{"country", MmdbValue::map({{"iso_code", "IR"}})}}));
//   Status s = writer.write(path, "GeoIP2-Country", 1700000000);
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipattrib/ip_address.h"
#include "ipattrib/status.h"

namespace ipattrib::test_support {

// A JSON-like value with the MaxMind DB data types a geo database uses.
class MmdbValue {
 public:
  enum class Type : std::uint8_t { kString, kDouble, kUint16, kUint32, kUint64, kBool, kMap, kArray };
  using Entry = std::pair<std::string, MmdbValue>;

  MmdbValue() : type_(Type::kMap) {}                                                    // an empty map
  MmdbValue(const char* s) : type_(Type::kString), string_(s) {}                        // NOLINT: implicit by design
  MmdbValue(std::string s) : type_(Type::kString), string_(std::move(s)) {}             // NOLINT
  MmdbValue(bool b) : type_(Type::kBool), unsigned_(b ? 1 : 0) {}                       // NOLINT
  MmdbValue(int v) : type_(Type::kUint32), unsigned_(static_cast<std::uint32_t>(v)) {}  // NOLINT: v >= 0
  MmdbValue(std::uint32_t v) : type_(Type::kUint32), unsigned_(v) {}                    // NOLINT
  MmdbValue(double v) : type_(Type::kDouble), double_(v) {}                             // NOLINT
  static MmdbValue uint16(std::uint16_t v);
  static MmdbValue uint64(std::uint64_t v);
  static MmdbValue map(std::initializer_list<Entry> entries);
  static MmdbValue map(std::vector<Entry> entries);
  static MmdbValue array(std::initializer_list<MmdbValue> elements);
  static MmdbValue array(std::vector<MmdbValue> elements);
  // Objects become maps, arrays arrays, strings strings, booleans booleans,
  // non-negative integers uint32 (uint64 when larger), other numbers doubles.
  static MmdbValue from_json(const nlohmann::json& json);

  Type type() const { return type_; }
  const std::string& string() const { return string_; }
  std::uint64_t unsigned_value() const { return unsigned_; }
  double double_value() const { return double_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<MmdbValue>& elements() const { return elements_; }

 private:
  explicit MmdbValue(Type type) : type_(type) {}
  Type type_;
  std::string string_;
  std::uint64_t unsigned_ = 0;
  double double_ = 0;
  std::vector<Entry> entries_;
  std::vector<MmdbValue> elements_;
};

// Builds the tree in memory; write() serialises it. A later add() of an
// overlapping network wins for the addresses it covers (like MaxMind's writer
// with the "replace" merge strategy).
class MmdbWriter {
 public:
  // ip_version 6 (IPv4 at ::/96) or 4; record_size 24, 28 or 32 bits.
  explicit MmdbWriter(int ip_version = 6, int record_size = 24);

  void add(const Cidr& network, MmdbValue value);
  // Text form "81.2.69.0/24", "2001:db8::/32", "::1.2.0.0/112"; throws
  // std::invalid_argument on bad text or an IPv6 network in an IPv4 tree.
  void add(std::string_view network, MmdbValue value);
  // Adds every {"network": {record}} entry of a MaxMind test-data source JSON
  // file (test-data/source-data/*.json); throws on a malformed file.
  void add_source_json(const std::string& path);

  // Writes the database to path (truncating), with the given metadata.
  Status write(const std::string& path, std::string_view database_type, std::uint64_t build_epoch,
               std::vector<std::string> languages = {"en"}, std::string_view description = "ipattrib test db") const;
  // The same bytes write() would produce.
  std::string serialize(std::string_view database_type, std::uint64_t build_epoch,
                        const std::vector<std::string>& languages = {"en"},
                        std::string_view description = "ipattrib test db") const;

 private:
  // A record of a node: empty, another node, or a value.
  struct Record {
    enum class Kind : std::uint8_t { kEmpty, kNode, kData } kind = Kind::kEmpty;
    std::uint32_t index = 0;  // node or value index
  };
  struct Node {
    Record records[2];
  };
  void insert(const std::uint8_t* bytes, int prefix_length, std::uint32_t value_index);

  int ip_version_;
  int record_size_;
  std::vector<Node> nodes_;
  std::vector<MmdbValue> values_;
};

}  // namespace ipattrib::test_support
