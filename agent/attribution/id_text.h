// IdText: a fixed-capacity buffer for one derived identifier (account or
// principal) whose source bytes are not usable as-is — percent-encoded, or
// taken out of a decoded JWT. Fixed capacity keeps the packet path free of
// allocation; identifiers longer than that are not identifiers we can trust
// to be what an operator meant, so they are refused rather than truncated.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace ipattrib::agent {

inline constexpr std::size_t kMaxIdLength = 256;

// Non-empty, at most kMaxIdLength bytes, no ASCII control bytes (they would
// corrupt logs and line-oriented exports downstream).
bool is_acceptable_id(std::string_view text);

class IdText {
 public:
  // Copies `text`; false (and empty) when it is not an acceptable id.
  bool assign(std::string_view text);
  // Decodes %XX escapes (and '+' as space when plus_is_space, as in query
  // strings). False when an escape is malformed or the result is not an
  // acceptable id.
  bool assign_percent_decoded(std::string_view text, bool plus_is_space);
  void clear() { size_ = 0; }
  std::string_view view() const { return {bytes_.data(), size_}; }

 private:
  std::array<char, kMaxIdLength> bytes_{};
  std::size_t size_ = 0;
};

}  // namespace ipattrib::agent
