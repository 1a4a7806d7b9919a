#include "tests/support/mmdb_writer.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ipattrib::test_support {
namespace {

// Data section type numbers from the MaxMind DB spec; > 7 are "extended".
enum : int {
  kTypeString = 2,
  kTypeDouble = 3,
  kTypeUint16 = 5,
  kTypeUint32 = 6,
  kTypeMap = 7,
  kTypeUint64 = 9,
  kTypeArray = 11,
  kTypeBool = 14,
};

constexpr std::string_view kMetadataMarker = "\xAB\xCD\xEFMaxMind.com";

void put_control(std::string& out, int type, std::size_t size) {
  std::uint8_t first = static_cast<std::uint8_t>((type <= 7 ? type : 0) << 5);
  std::string size_bytes;
  if (size < 29) {
    first |= static_cast<std::uint8_t>(size);
  } else if (size < 29 + 256) {
    first |= 29;
    size_bytes.push_back(static_cast<char>(size - 29));
  } else if (size < 285 + 65536) {
    first |= 30;
    const std::size_t v = size - 285;
    size_bytes.push_back(static_cast<char>(v >> 8));
    size_bytes.push_back(static_cast<char>(v));
  } else {
    first |= 31;
    const std::size_t v = size - 65821;
    size_bytes.push_back(static_cast<char>(v >> 16));
    size_bytes.push_back(static_cast<char>(v >> 8));
    size_bytes.push_back(static_cast<char>(v));
  }
  out.push_back(static_cast<char>(first));
  if (type > 7) out.push_back(static_cast<char>(type - 7));
  out += size_bytes;
}

void put_unsigned(std::string& out, int type, std::uint64_t value) {
  std::string bytes;  // big-endian without leading zero bytes; zero is no bytes
  for (; value != 0; value >>= 8) bytes.insert(bytes.begin(), static_cast<char>(value & 0xff));
  put_control(out, type, bytes.size());
  out += bytes;
}

void put_string(std::string& out, std::string_view s) {
  put_control(out, kTypeString, s.size());
  out += s;
}

void encode(const MmdbValue& value, std::string& out) {
  switch (value.type()) {
    case MmdbValue::Type::kString: put_string(out, value.string()); return;
    case MmdbValue::Type::kDouble: {
      put_control(out, kTypeDouble, 8);
      const auto bits = std::bit_cast<std::uint64_t>(value.double_value());
      for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
      return;
    }
    case MmdbValue::Type::kUint16: put_unsigned(out, kTypeUint16, value.unsigned_value()); return;
    case MmdbValue::Type::kUint32: put_unsigned(out, kTypeUint32, value.unsigned_value()); return;
    case MmdbValue::Type::kUint64: put_unsigned(out, kTypeUint64, value.unsigned_value()); return;
    case MmdbValue::Type::kBool: put_control(out, kTypeBool, value.unsigned_value()); return;
    case MmdbValue::Type::kMap:
      put_control(out, kTypeMap, value.entries().size());
      for (const auto& [key, v] : value.entries()) {
        put_string(out, key);
        encode(v, out);
      }
      return;
    case MmdbValue::Type::kArray:
      put_control(out, kTypeArray, value.elements().size());
      for (const auto& v : value.elements()) encode(v, out);
      return;
  }
}

void put_record(std::string& out, std::uint32_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(value >> (8 * i)));
}

}  // namespace

MmdbValue MmdbValue::uint16(std::uint16_t v) {
  MmdbValue value(Type::kUint16);
  value.unsigned_ = v;
  return value;
}

MmdbValue MmdbValue::uint64(std::uint64_t v) {
  MmdbValue value(Type::kUint64);
  value.unsigned_ = v;
  return value;
}

MmdbValue MmdbValue::map(std::initializer_list<Entry> entries) {
  return map(std::vector<Entry>(entries));
}

MmdbValue MmdbValue::map(std::vector<Entry> entries) {
  MmdbValue value(Type::kMap);
  value.entries_ = std::move(entries);
  return value;
}

MmdbValue MmdbValue::array(std::initializer_list<MmdbValue> elements) {
  return array(std::vector<MmdbValue>(elements));
}

MmdbValue MmdbValue::array(std::vector<MmdbValue> elements) {
  MmdbValue value(Type::kArray);
  value.elements_ = std::move(elements);
  return value;
}

MmdbValue MmdbValue::from_json(const nlohmann::json& json) {
  if (json.is_object()) {
    std::vector<Entry> entries;
    for (const auto& [key, v] : json.items()) entries.emplace_back(key, from_json(v));
    return map(std::move(entries));
  }
  if (json.is_array()) {
    std::vector<MmdbValue> elements;
    for (const auto& v : json) elements.push_back(from_json(v));
    return array(std::move(elements));
  }
  if (json.is_string()) return MmdbValue(json.get<std::string>());
  if (json.is_boolean()) return MmdbValue(json.get<bool>());
  if (json.is_number_unsigned() || (json.is_number_integer() && json.get<std::int64_t>() >= 0)) {
    const auto v = json.get<std::uint64_t>();
    return v <= UINT32_MAX ? MmdbValue(static_cast<std::uint32_t>(v)) : uint64(v);
  }
  if (json.is_number()) return MmdbValue(json.get<double>());
  throw std::invalid_argument("MmdbValue::from_json: unsupported JSON value " + json.dump());
}

MmdbWriter::MmdbWriter(int ip_version, int record_size) : ip_version_(ip_version), record_size_(record_size) {
  if (ip_version != 4 && ip_version != 6) throw std::invalid_argument("ip_version must be 4 or 6");
  if (record_size != 24 && record_size != 28 && record_size != 32) {
    throw std::invalid_argument("record_size must be 24, 28 or 32");
  }
  nodes_.emplace_back();  // the root
}

void MmdbWriter::add(const Cidr& network, MmdbValue value) {
  values_.push_back(std::move(value));
  const auto index = static_cast<std::uint32_t>(values_.size() - 1);
  const std::uint8_t* bytes = network.network.bytes().data();
  if (network.network.is_v4()) {
    if (ip_version_ == 4) return insert(bytes + 12, network.prefix_length, index);
    std::uint8_t compat[16] = {};  // ::a.b.c.d, where libmaxminddb looks IPv4 up
    std::memcpy(compat + 12, bytes + 12, 4);
    return insert(compat, 96 + network.prefix_length, index);
  }
  if (ip_version_ == 4) throw std::invalid_argument("IPv6 network " + network.to_string() + " in an IPv4 tree");
  insert(bytes, network.prefix_length, index);
}

void MmdbWriter::add(std::string_view network, MmdbValue value) {
  const auto cidr = Cidr::parse(network);
  if (!cidr) throw std::invalid_argument("bad network: " + std::string(network));
  add(*cidr, std::move(value));
}

void MmdbWriter::add_source_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  for (const auto& element : doc) {
    for (const auto& [network, record] : element.items()) add(network, MmdbValue::from_json(record));
  }
}

void MmdbWriter::insert(const std::uint8_t* bytes, int prefix_length, std::uint32_t value_index) {
  const Record data{Record::Kind::kData, value_index};
  if (prefix_length == 0) {  // the whole space: both halves of the root
    nodes_[0].records[0] = nodes_[0].records[1] = data;
    return;
  }
  std::uint32_t node = 0;
  for (int depth = 0;; ++depth) {
    const int bit = (bytes[depth / 8] >> (7 - depth % 8)) & 1;
    if (depth == prefix_length - 1) {
      nodes_[node].records[bit] = data;  // replaces whatever was below
      return;
    }
    const Record current = nodes_[node].records[bit];
    if (current.kind == Record::Kind::kNode) {
      node = current.index;
      continue;
    }
    Node child;  // splits a shorter network's value into both halves
    if (current.kind == Record::Kind::kData) child.records[0] = child.records[1] = current;
    nodes_.push_back(child);
    const auto child_index = static_cast<std::uint32_t>(nodes_.size() - 1);
    nodes_[node].records[bit] = Record{Record::Kind::kNode, child_index};
    node = child_index;
  }
}

std::string MmdbWriter::serialize(std::string_view database_type, std::uint64_t build_epoch,
                                  const std::vector<std::string>& languages, std::string_view description) const {
  // Number the nodes still reachable (a replaced subtree leaves orphans).
  std::vector<std::uint32_t> order{0};
  std::vector<std::int64_t> new_index(nodes_.size(), -1);
  new_index[0] = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (const Record& r : nodes_[order[i]].records) {
      if (r.kind == Record::Kind::kNode && new_index[r.index] < 0) {
        new_index[r.index] = static_cast<std::int64_t>(order.size());
        order.push_back(r.index);
      }
    }
  }
  const auto node_count = static_cast<std::uint32_t>(order.size());

  // Identical records are stored once.
  std::string data;
  std::map<std::string, std::uint32_t> offset_of_encoding;
  std::vector<std::uint32_t> value_offset(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    std::string encoded;
    encode(values_[i], encoded);
    auto [it, inserted] = offset_of_encoding.emplace(encoded, static_cast<std::uint32_t>(data.size()));
    if (inserted) data += encoded;
    value_offset[i] = it->second;
  }

  const std::uint64_t max_record = (record_size_ == 32) ? UINT32_MAX : ((1ull << record_size_) - 1);
  auto record_value = [&](const Record& r) -> std::uint32_t {
    std::uint64_t v = node_count;
    if (r.kind == Record::Kind::kNode) v = static_cast<std::uint64_t>(new_index[r.index]);
    if (r.kind == Record::Kind::kData) v = std::uint64_t{node_count} + 16 + value_offset[r.index];
    if (v > max_record) throw std::length_error("database too large for its record size");
    return static_cast<std::uint32_t>(v);
  };

  std::string out;
  for (std::uint32_t old : order) {
    const std::uint32_t left = record_value(nodes_[old].records[0]);
    const std::uint32_t right = record_value(nodes_[old].records[1]);
    if (record_size_ == 28) {
      put_record(out, left & 0xffffff, 3);
      out.push_back(static_cast<char>(((left >> 24) & 0x0f) << 4 | ((right >> 24) & 0x0f)));
      put_record(out, right & 0xffffff, 3);
    } else {
      put_record(out, left, record_size_ / 8);
      put_record(out, right, record_size_ / 8);
    }
  }
  out.append(16, '\0');  // data section separator
  out += data;

  std::vector<MmdbValue> language_values(languages.begin(), languages.end());
  const MmdbValue metadata = MmdbValue::map({
      {"binary_format_major_version", MmdbValue::uint16(2)},
      {"binary_format_minor_version", MmdbValue::uint16(0)},
      {"build_epoch", MmdbValue::uint64(build_epoch)},
      {"database_type", std::string(database_type)},
      {"description", MmdbValue::map({{"en", std::string(description)}})},
      {"ip_version", MmdbValue::uint16(static_cast<std::uint16_t>(ip_version_))},
      {"languages", MmdbValue::array(std::move(language_values))},
      {"node_count", MmdbValue(node_count)},
      {"record_size", MmdbValue::uint16(static_cast<std::uint16_t>(record_size_))},
  });
  out += kMetadataMarker;
  encode(metadata, out);
  return out;
}

Status MmdbWriter::write(const std::string& path, std::string_view database_type, std::uint64_t build_epoch,
                         std::vector<std::string> languages, std::string_view description) const {
  std::string bytes;
  try {
    bytes = serialize(database_type, build_epoch, languages, description);
  } catch (const std::exception& e) {
    return Status::error(e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status::error("cannot write " + path);
  return Status::ok();
}

}  // namespace ipattrib::test_support
