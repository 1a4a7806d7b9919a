#include "agent/attribution/api_key_table.h"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "agent/attribution/id_text.h"
#include "ipattrib/hex_digit.h"

namespace ipattrib::agent {
namespace {

std::optional<Sha256Digest> parse_hex_digest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Sha256Digest digest{};
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_digit_value(hex[2 * i]);
    const int low = hex_digit_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return digest;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits a line into whitespace-separated fields; false when there are more
// than `max` of them.
bool split_fields(std::string_view line, std::vector<std::string_view>& fields, std::size_t max) {
  fields.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) break;
    const std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    if (fields.size() == max) return false;
    fields.push_back(line.substr(start, i - start));
  }
  return true;
}

}  // namespace

ApiKeyTable ApiKeyTable::parse(std::string_view text, std::vector<LoadError>& errors) {
  ApiKeyTable table;
  // Sized once for every line (comments too, a bound): no rehash while
  // loading, which for a large file was most of the table's cost.
  table.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  std::vector<std::string_view> fields;
  std::uint32_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    // A comment may hold any number of words: test for it before counting fields.
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (!split_fields(line, fields, 3)) {
      errors.push_back({line_number, "too many fields (expected: sha256-hex account [principal])"});
      continue;
    }
    if (fields.size() < 2) {
      errors.push_back({line_number, "missing account (expected: sha256-hex account [principal])"});
      continue;
    }
    const auto digest = parse_hex_digest(fields[0]);
    if (!digest) {
      // Do not echo the field: an operator may have pasted a key instead of its digest.
      errors.push_back({line_number, "first field is not a SHA-256 digest (64 hex digits)"});
      continue;
    }
    if (!is_acceptable_id(fields[1]) || (fields.size() == 3 && !is_acceptable_id(fields[2]))) {
      errors.push_back({line_number, "account or principal is longer than 256 bytes"});
      continue;
    }
    ApiKeyOwner owner{std::string(fields[1]), fields.size() == 3 ? std::string(fields[2]) : std::string()};
    if (!table.insert(*digest, std::move(owner))) {
      errors.push_back({line_number, "the same key digest appears more than once"});
    }
  }
  return table;
}

ApiKeyTable ApiKeyTable::load(const std::string& path, std::vector<LoadError>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({0, "cannot read API key file"});
    return ApiKeyTable();
  }
  // A regular file in one read of its size (a stream copy through a
  // stringbuf was a quarter of the load's time); anything else as a stream.
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  std::string text;
  if (!error) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<std::size_t>(in.gcount()));
  } else {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (in.bad()) {
    errors.push_back({0, "cannot read API key file"});
    return ApiKeyTable();
  }
  return parse(text, errors);
}

void ApiKeyTable::reserve(std::size_t keys) {
  owners_.reserve(keys);
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(16, 2 * keys));
  if (slots > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(slots, Slot{});
    for (const Slot& slot : old) {
      if (slot.owner != 0) place(slot.digest, slot.owner);
    }
  }
}

bool ApiKeyTable::insert(const Sha256Digest& digest, ApiKeyOwner owner) {
  if (find(digest) != nullptr) return false;
  if ((owners_.size() + 1) * 2 > slots_.size()) reserve(std::max<std::size_t>(8, slots_.size()));
  owners_.push_back(std::move(owner));
  place(digest, static_cast<std::uint32_t>(owners_.size()));
  return true;
}

void ApiKeyTable::place(const Sha256Digest& digest, std::uint32_t owner) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home_slot(digest, mask);
  while (slots_[i].owner != 0) i = (i + 1) & mask;
  slots_[i] = Slot{digest, owner};
}

const ApiKeyOwner* ApiKeyTable::find(const Sha256Digest& digest) const {
  if (slots_.empty()) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home_slot(digest, mask);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.owner == 0) return nullptr;
    if (slot.digest == digest) return &owners_[slot.owner - 1];
  }
}

}  // namespace ipattrib::agent
