#include "agent/attribution/path_template.h"

namespace ipattrib::agent {
namespace {

constexpr std::string_view kAccount = "{account}";

bool is_rest_marker(std::string_view segment) { return segment == "..." || segment == "*"; }

}  // namespace

std::optional<PathTemplate> PathTemplate::parse(std::string_view text, std::string& error) {
  if (text.empty() || text.front() != '/') {
    error = "path template must start with '/'";
    return std::nullopt;
  }
  PathTemplate t;
  t.text_ = std::string(text);
  std::string_view rest = text.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // "/a/{account}/" == "/a/{account}"
  bool have_account = false;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) {
      error = "path template has an empty segment ('//')";
      return std::nullopt;
    }
    if (t.open_ended_) {
      error = "'...' may only be the last segment of a path template";
      return std::nullopt;
    }
    if (is_rest_marker(segment)) {
      t.open_ended_ = true;
      continue;
    }
    if (segment == kAccount) {
      if (have_account) {
        error = "path template has more than one {account}";
        return std::nullopt;
      }
      have_account = true;
      t.account_index_ = t.segments_.size();
    } else if (segment.find_first_of("{}?#") != std::string_view::npos) {
      error = "path template segment '" + std::string(segment) + "' is not a literal or {account}";
      return std::nullopt;
    }
    t.segments_.emplace_back(segment);
  }
  if (!have_account) {
    error = "path template has no {account} segment";
    return std::nullopt;
  }
  return t;
}

std::optional<std::string_view> PathTemplate::match(std::string_view path) const {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string_view rest = path.substr(1);
  std::string_view account;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (rest.empty() && i > 0) return std::nullopt;  // path ended before the template
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool more = slash != std::string_view::npos;
    rest = more ? rest.substr(slash + 1) : std::string_view();
    if (i == account_index_) {
      if (segment.empty()) return std::nullopt;
      account = segment;
    } else if (segment != segments_[i]) {
      return std::nullopt;
    }
    if (!more && i + 1 < segments_.size()) return std::nullopt;
    if (i + 1 == segments_.size()) {
      if (open_ended_) return account;
      // The path must end here; one trailing slash is the same resource.
      if (!more || rest.empty()) return account;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace ipattrib::agent
