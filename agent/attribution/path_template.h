// PathTemplate: an account rule's URL path pattern such as
// "/v1/accounts/{account}/..." — literal segments that must match exactly,
// one "{account}" segment that is captured, and an optional trailing "..."
// (or "*") that accepts any rest. Without it the path must end after the
// template (one trailing slash is tolerated).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipattrib::agent {

class PathTemplate {
 public:
  PathTemplate() = default;
  // nullopt and a reason in `error` when the template is malformed.
  static std::optional<PathTemplate> parse(std::string_view text, std::string& error);

  // The raw (still percent-encoded) {account} segment of `path` (a path as
  // returned by request_path(): no query), or nullopt when it does not match.
  std::optional<std::string_view> match(std::string_view path) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> segments_;  // "{account}" marks the capture
  std::size_t account_index_ = 0;
  bool open_ended_ = false;
};

}  // namespace ipattrib::agent
