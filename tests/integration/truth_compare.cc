// truth_compare: compares the agent's --events output (JSON lines) with the
// generator's ground truth (TSV). Every truth row must be reported exactly
// once and nothing else: exit 0 when they agree, 1 with the first
// differences printed when they do not, 2 on unreadable input.
//
//   truth_compare TRUTH.tsv EVENTS.jsonl
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace {

constexpr const char* kColumns[] = {"ts_us",  "client_ip", "peer_ip", "peer_port", "server_ip", "server_port",
                                    "method", "host",      "target",  "account",   "principal", "class"};
constexpr std::size_t kColumnCount = std::size(kColumns);
constexpr std::size_t kShown = 10;

using Row = std::vector<std::string>;  // kColumnCount fields, as in the TSV

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
    fields.push_back(line.substr(start, tab - start));
  }
  fields.push_back(line.substr(start));
  return fields;
}

// "2026-11-23T09:32:34.123456Z" -> microseconds since the epoch.
bool parse_rfc3339_micros(const std::string& text, long long& ts_us) {
  int year, month, day, hour, minute, second, micros, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ%n", &year, &month, &day, &hour, &minute, &second,
                  &micros, &consumed) != 7 ||
      static_cast<std::size_t>(consumed) != text.size() || text.size() != 27) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  ts_us = static_cast<long long>(timegm(&tm)) * 1000000 + micros;
  return true;
}

std::string text_or_dash(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return value.get<std::string>();
}

bool read_truth(const std::string& path, std::vector<Row>& rows) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "truth_compare: cannot read " << path << "\n";
    return false;
  }
  std::string line;
  std::getline(in, line);  // header row
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    Row row = split_tabs(line);
    if (row.size() != kColumnCount) {
      std::cerr << path << ":" << number << ": expected " << kColumnCount << " columns\n";
      return false;
    }
    rows.push_back(std::move(row));
  }
  return true;
}

bool read_events(const std::string& path, std::vector<Row>& rows) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "truth_compare: cannot read " << path << "\n";
    return false;
  }
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      const nlohmann::json e = nlohmann::json::parse(line);
      long long ts_us = 0;
      if (!parse_rfc3339_micros(e.at("ts").get<std::string>(), ts_us)) {
        std::cerr << path << ":" << number << ": bad ts " << e.at("ts") << "\n";
        return false;
      }
      Row row = {std::to_string(ts_us)};
      for (std::size_t c = 1; c < kColumnCount; ++c) row.push_back(text_or_dash(e.at(kColumns[c])));
      rows.push_back(std::move(row));
    } catch (const nlohmann::json::exception& error) {
      std::cerr << path << ":" << number << ": " << error.what() << "\n";
      return false;
    }
  }
  return true;
}

std::string join(const Row& row) {
  std::string text;
  for (std::size_t c = 0; c < row.size(); ++c) text += (c == 0 ? "" : " | ") + row[c];
  return text;
}

// The connection and request line identify a request well enough to pair a
// missing truth row with the event the agent reported for it instead.
auto request_identity(const Row& r) { return std::tie(r[2], r[3], r[6], r[8]); }

void print_differences(const std::vector<Row>& missing, const std::vector<Row>& unexpected) {
  std::multimap<std::tuple<std::string, std::string, std::string, std::string>, const Row*> by_identity;
  for (const Row& r : unexpected) by_identity.emplace(request_identity(r), &r);
  std::cout << "columns: ";
  for (const char* c : kColumns) std::cout << c << " ";
  std::cout << "\n";
  for (std::size_t i = 0; i < std::min(missing.size(), kShown); ++i) {
    std::cout << "MISSING  " << join(missing[i]) << "\n";
    const auto match = by_identity.find(request_identity(missing[i]));
    if (match == by_identity.end()) continue;
    const Row& got = *match->second;
    for (std::size_t c = 0; c < kColumnCount; ++c) {
      if (got[c] != missing[i][c]) {
        std::cout << "         " << kColumns[c] << ": expected '" << missing[i][c] << "', agent reported '" << got[c]
                  << "'\n";
      }
    }
  }
  for (std::size_t i = 0; i < std::min(unexpected.size(), kShown); ++i) {
    std::cout << "EXTRA    " << join(unexpected[i]) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: truth_compare TRUTH.tsv EVENTS.jsonl\n";
    return 2;
  }
  std::vector<Row> truth, events;
  if (!read_truth(argv[1], truth) || !read_events(argv[2], events)) return 2;
  std::sort(truth.begin(), truth.end());
  std::sort(events.begin(), events.end());
  std::vector<Row> missing, unexpected;
  std::set_difference(truth.begin(), truth.end(), events.begin(), events.end(), std::back_inserter(missing));
  std::set_difference(events.begin(), events.end(), truth.begin(), truth.end(), std::back_inserter(unexpected));
  std::cout << "truth rows: " << truth.size() << ", agent events: " << events.size()
            << ", matched: " << truth.size() - missing.size() << ", missing: " << missing.size()
            << ", extra: " << unexpected.size() << "\n";
  if (missing.empty() && unexpected.empty()) return 0;
  print_differences(missing, unexpected);
  return 1;
}
