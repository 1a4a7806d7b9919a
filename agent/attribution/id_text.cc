#include "agent/attribution/id_text.h"

#include <cstring>

#include "ipattrib/hex_digit.h"

namespace ipattrib::agent {

bool is_acceptable_id(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdLength) return false;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

bool IdText::assign(std::string_view text) {
  size_ = 0;
  if (!is_acceptable_id(text)) return false;
  std::memcpy(bytes_.data(), text.data(), text.size());
  size_ = text.size();
  return true;
}

bool IdText::assign_percent_decoded(std::string_view text, bool plus_is_space) {
  size_ = 0;
  std::size_t out = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out == bytes_.size()) return false;
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;  // needs two hex digits after '%'
      const int high = hex_digit_value(text[i + 1]);
      const int low = hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    bytes_[out++] = c;
  }
  if (!is_acceptable_id(std::string_view(bytes_.data(), out))) return false;
  size_ = out;
  return true;
}

}  // namespace ipattrib::agent
