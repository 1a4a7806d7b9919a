#include "agent/output/event_json_writer.h"

#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "ipattrib/anonymizer_flag_names.h"

namespace ipattrib::agent {
namespace {

nlohmann::json optional_view(bool present, std::string_view value) {
  if (!present) return nullptr;
  return std::string(value);
}

nlohmann::json anonymizer_list(std::uint8_t flags) {
  nlohmann::json list = nlohmann::json::array();
  for_each_anonymizer_flag(flags, [&](std::string_view name) { list.push_back(std::string(name)); });
  return list;
}

}  // namespace

std::string format_rfc3339_micros(std::int64_t ts_us) {
  std::int64_t seconds = ts_us / 1000000;
  std::int64_t micros = ts_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::string EventJsonWriter::to_json(const AccessEvent& e) {
  nlohmann::ordered_json j;
  j["ts"] = format_rfc3339_micros(e.ts_us);
  j["client_ip"] = e.client_ip.to_string();
  j["ip_source"] = std::string(to_string(e.ip_source));
  j["peer_ip"] = e.peer_ip.to_string();
  j["peer_port"] = e.peer_port;
  j["server_ip"] = e.server_ip.to_string();
  j["server_port"] = e.server_port;
  j["method"] = std::string(e.method);
  j["host"] = std::string(e.host);
  j["target"] = std::string(e.target);
  j["account"] = optional_view(e.has_account, e.account);
  j["principal"] = optional_view(!e.principal.empty(), e.principal);
  j["class"] = std::string(to_string(e.access_class));
  j["country"] = optional_view(e.geo.country.known(), e.geo.country.view());
  j["registered_country"] = optional_view(e.geo.registered_country.known(), e.geo.registered_country.view());
  j["subdivision"] = optional_view(e.geo.subdivision.known(), e.geo.subdivision.view());
  j["asn"] = e.geo.asn == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.geo.asn);
  j["as_org"] = optional_view(!e.geo.as_org.empty(), e.geo.as_org);
  j["anonymizer"] = anonymizer_list(e.geo.anonymizer_flags);
  // Which data answered: the build time of the country/city database.
  j["geo_db_build"] = e.geo.db_build_epoch == 0 ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(format_rfc3339_micros(e.geo.db_build_epoch * 1000000).substr(0, 19) + "Z");
  // Request bytes are not guaranteed UTF-8: replace invalid sequences rather
  // than fail the whole line.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void EventJsonWriter::on_access(const AccessEvent& event) { write_line(to_json(event)); }

void EventJsonWriter::write_line(std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fputc('\n', out_) == EOF) {
    ++write_errors_;
    return;
  }
  ++written_;
}

void EventJsonWriter::flush() { std::fflush(out_); }

void EventJsonWriter::report(StatsSink& sink) const {
  sink.counter("events.written", written_);
  sink.counter("events.write_errors", write_errors_);
}

}  // namespace ipattrib::agent
