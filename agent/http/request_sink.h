// RequestSink: receives every complete HTTP request head the request-stream
// parser finds, with the connection it came on.
#pragma once

#include <cstdint>

#include "agent/flow/client_stream_consumer.h"
#include "agent/http/request_head.h"
#include "agent/http/request_stream_state.h"

namespace ipattrib::agent {

struct RequestContext {
  std::int64_t ts_us = 0;              // capture time of the segment completing the head
  const FlowEndpoints* endpoints = nullptr;  // socket addresses (peer = client side)
  const ProxiedAddresses* proxy = nullptr;   // PROXY protocol addresses, if any
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void on_request(const RequestContext& context, const RequestHead& head) = 0;
  // A hint before a head on this connection is parsed (context.ts_us is the
  // segment's time): on_request for it may follow. Lets the sink start
  // fetching what it will need (the geo cache's lines for the client) while
  // the head is parsed. Changes nothing.
  virtual void upcoming_request(const RequestContext& context) { (void)context; }
};

}  // namespace ipattrib::agent
