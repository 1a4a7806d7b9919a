// Test doubles for the HTTP request-stream parser: a RequestSink that copies
// every head it receives, a StatsSink that keeps counters by name, and a
// driver that behaves like the flow table (keeps unconsumed bytes and offers
// them again with the next delivery).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/http/request_sink.h"
#include "agent/http/request_stream_parser.h"
#include "ipattrib/stats_sink.h"

namespace ipattrib::agent {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
  bool proxied = false;
  std::string proxy_source;
  std::uint16_t proxy_source_port = 0;
  std::int64_t ts_us = 0;

  // Everything but ts_us (which depends on how bytes were delivered).
  std::string summary() const {
    std::string s = method + " " + target + " " + version;
    for (const auto& [name, value] : headers) s += "|" + name + ":" + value;
    if (proxied) s += "|proxy=" + proxy_source + ":" + std::to_string(proxy_source_port);
    return s;
  }
};

class RecordingRequestSink : public RequestSink {
 public:
  void on_request(const RequestContext& context, const RequestHead& head) override {
    RecordedRequest r;
    r.method = head.method;
    r.target = head.target;
    r.version = head.version;
    for (const HttpHeader& h : head.headers) r.headers.emplace_back(h.name, h.value);
    if (context.proxy != nullptr && context.proxy->present) {
      r.proxied = true;
      r.proxy_source = context.proxy->source.to_string();
      r.proxy_source_port = context.proxy->source_port;
    }
    r.ts_us = context.ts_us;
    requests.push_back(std::move(r));
  }

  std::vector<std::string> summaries() const {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.summary());
    return out;
  }
  std::vector<std::string> targets() const {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.target);
    return out;
  }

  std::vector<RecordedRequest> requests;
};

class CounterMap : public StatsSink {
 public:
  void counter(std::string_view name, std::uint64_t value) override { values[std::string(name)] = value; }
  std::uint64_t operator[](const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? 0 : it->second;
  }
  std::map<std::string, std::uint64_t> values;
};

// Plays the flow table for one flow.
class FlowStreamDriver {
 public:
  FlowStreamDriver(RequestStreamParser& parser, FlowEndpoints endpoints) : parser_(parser), endpoints_(endpoints) {}

  // Delivers `bytes` in pieces of at most `piece` bytes (0: all at once).
  void deliver(std::string_view bytes, std::size_t piece = 0) {
    if (piece == 0) piece = bytes.size();
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      const std::string_view part = bytes.substr(at, piece);
      kept_.insert(kept_.end(), part.begin(), part.end());
      const std::size_t consumed = parser_.on_client_bytes(endpoints_, state_, kept_, ++ts_us_);
      if (consumed > kept_.size()) {
        overconsumed_ = true;
        kept_.clear();
      } else {
        kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(consumed));
      }
    }
  }

  void gap() {
    kept_.clear();
    parser_.on_gap(endpoints_, state_);
  }

  const RequestStreamState& state() const { return state_; }
  std::size_t kept() const { return kept_.size(); }
  bool overconsumed() const { return overconsumed_; }

 private:
  RequestStreamParser& parser_;
  FlowEndpoints endpoints_;
  RequestStreamState state_;
  std::vector<std::uint8_t> kept_;
  std::int64_t ts_us_ = 0;
  bool overconsumed_ = false;
};

}  // namespace ipattrib::agent
