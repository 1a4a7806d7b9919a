#include "agent/attribution/request_target.h"

#include <optional>

namespace ipattrib::agent {
namespace {

// Index of the first '?' or '#' (or also '/' when `slash`), npos if none.
// A plain loop: string_view::find_first_of runs memchr over the set for
// every byte, which made request_path a tenth of the agent's instructions.
std::size_t find_path_end(std::string_view text, bool slash) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '?' || c == '#' || (slash && c == '/')) return i;
  }
  return std::string_view::npos;
}

// Drops "scheme://authority" from an absolute-form target. Leaves origin-form
// untouched; nullopt for anything else.
std::optional<std::string_view> strip_scheme_and_authority(std::string_view target) {
  if (!target.empty() && target.front() == '/') return target;
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  for (std::size_t i = 0; i < scheme_end; ++i) {
    const char c = target[i];
    const bool scheme_char =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!scheme_char) return std::nullopt;
  }
  const std::string_view rest = target.substr(scheme_end + 3);
  const std::size_t path_start = find_path_end(rest, true);
  if (path_start == std::string_view::npos) return "/";
  return rest.substr(path_start);  // "?q" for "http://h?q": request_path maps the empty path to "/"
}

}  // namespace

std::string_view request_path(std::string_view target) {
  const auto stripped = strip_scheme_and_authority(target);
  if (!stripped) return {};
  std::string_view path = *stripped;
  const std::size_t end = find_path_end(path, false);
  if (end != std::string_view::npos) path = path.substr(0, end);
  return path.empty() ? std::string_view("/") : path;
}

std::string_view request_query(std::string_view target) {
  const auto stripped = strip_scheme_and_authority(target);
  if (!stripped) return {};
  const std::string_view path_and_query = *stripped;
  const std::size_t question = path_and_query.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = path_and_query.substr(question + 1);
  const std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  return query;
}

}  // namespace ipattrib::agent
