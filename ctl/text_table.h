// TextTable: the aligned, human-readable tables ipattribctl prints by
// default. Cells come from the ledger (account ids, AS names: network
// input), so control characters are shown as '?' rather than sent to the
// analyst's terminal.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ipattrib::ctl {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Columns separated by two spaces, left-aligned, no trailing blanks.
  void write(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Control bytes (and DEL) replaced by '?'; UTF-8 left as it is.
std::string printable(const std::string& text);
// Display width of UTF-8 text: one column per code point.
std::size_t display_width(const std::string& text);

}  // namespace ipattrib::ctl
