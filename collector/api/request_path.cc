#include "collector/api/request_path.h"

#include <string_view>

#include "ipattrib/hex_digit.h"

namespace ipattrib::collector {
namespace {

// Percent-decodes one path segment; false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit_value(in[i + 1]);
    const int lo = hex_digit_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// The raw (still percent-encoded) path segments of the request target, so an
// account id holding an encoded '/' stays one segment.
std::vector<std::string_view> raw_segments(const std::string& target) {
  std::string_view path(target);
  path = path.substr(0, path.find_first_of("?#"));
  std::vector<std::string_view> segments;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

}  // namespace

bool split_request_path(const std::string& target, std::vector<std::string>& segments) {
  const std::vector<std::string_view> raw = raw_segments(target);
  segments.assign(raw.size(), std::string());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (!percent_decode(raw[i], segments[i])) return false;
  }
  return true;
}

}  // namespace ipattrib::collector
