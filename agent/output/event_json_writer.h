// EventJsonWriter: writes each AccessEvent as one JSON object per line (the
// agent's --events output), for inspection and for tests that compare the
// agent with an oracle. Not on the measured path: events output is optional.
#pragma once

#include <cstdio>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/attribution/access_event.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

class EventJsonWriter : public AccessEventSink {
 public:
  // Writes to `out` (not owned; e.g. stdout or a file opened by the caller).
  explicit EventJsonWriter(std::FILE* out) : out_(out) {}

  void on_access(const AccessEvent& event) override;
  // Writes one line already made by to_json() (worker threads format their
  // own events; the capture thread only writes them).
  void write_line(std::string_view json);
  void flush();
  void report(StatsSink& sink) const;

  // One event as its JSON text (no newline).
  static std::string to_json(const AccessEvent& event);

 private:
  std::FILE* out_;
  std::uint64_t written_ = 0;
  std::uint64_t write_errors_ = 0;
};

// "2026-11-23T09:32:34.123456Z"
std::string format_rfc3339_micros(std::int64_t ts_us);

}  // namespace ipattrib::agent
