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
};

}  // namespace ipattrib::agent
