#include "agent/ship/transport/collector_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/tls/tcp_socket.h"
#include "common/tls/tls_stream.h"
#include "ipattrib/wire/control_messages.h"

namespace ipattrib::agent {
namespace {

constexpr int kLingerMs = 1000;

}  // namespace

Status CollectorClient::check_collectors(const std::vector<std::string>& collectors) {
  if (collectors.empty()) return Status::error("no collectors configured");
  for (const std::string& collector : collectors) {
    tls::HostPort address;
    if (Status s = tls::parse_host_port(collector, address); !s) return Status::error("collector " + s.message());
  }
  return Status::ok();
}

Status CollectorClient::make_tls(const CollectorClientOptions& options, std::unique_ptr<tls::TlsContext>& out) {
  if (options.plaintext_for_tests) {
    out = tls::TlsContext::make_plaintext_for_tests("shipper");
    return Status::ok();
  }
  return tls::TlsContext::make_client(options.tls, out);
}

Status CollectorClient::create(const CollectorClientOptions& options, std::unique_ptr<CollectorClient>& out) {
  if (Status s = check_collectors(options.collectors); !s) return s;
  if (options.agent_id.empty()) return Status::error("agent id is empty");
  std::unique_ptr<CollectorClient> client(new CollectorClient(options));
  if (Status s = make_tls(options, client->tls_); !s) return s;
  out = std::move(client);
  return Status::ok();
}

void CollectorClient::reconfigure(std::vector<std::string> collectors, std::unique_ptr<tls::TlsContext> tls) {
  ++reconfigurations_;
  options_.collectors = std::move(collectors);
  tls_ = std::move(tls);
  backoff_ = std::chrono::milliseconds(0);
  if (!connected()) return;
  const auto& listed = options_.collectors;
  if (std::find(listed.begin(), listed.end(), connected_collector_) != listed.end()) return;
  spdlog::info("shipper: collector {} is no longer configured; reconnecting", connected_collector_);
  disconnect();
}

Status CollectorClient::connect(std::uint64_t lowest_unacked, std::uint64_t highest_unacked) {
  disconnect();
  std::string errors;
  for (const std::string& collector : options_.collectors) {
    Status s = connect_to(collector, lowest_unacked, highest_unacked);
    if (s) {
      ++connects_;
      backoff_ = std::chrono::milliseconds(0);
      spdlog::info("shipper: connected to collector {}; it has committed up to batch {}", collector,
                   highest_committed_);
      return s;
    }
    ++connect_failures_;
    spdlog::warn("shipper: collector {}: {}", collector, s.message());
    if (!errors.empty()) errors += "; ";
    errors += collector + ": " + s.message();
  }
  backoff_ = backoff_.count() == 0 ? options_.backoff_initial : std::min(backoff_ * 2, options_.backoff_max);
  return Status::error("no collector reachable: " + errors);
}

Status CollectorClient::connect_to(const std::string& collector, std::uint64_t lowest_unacked,
                                   std::uint64_t highest_unacked) {
  tls::HostPort address;
  if (Status s = tls::parse_host_port(collector, address); !s) return s;
  tls::UniqueFd fd;
  if (Status s = tls::connect_tcp(address, options_.connect_timeout_ms, fd); !s) return s;
  std::unique_ptr<tls::TlsStream> stream;
  if (Status s = tls::TlsStream::connect(*tls_, std::move(fd), address.host, options_.connect_timeout_ms, stream); !s) {
    return s;
  }
  auto frames = std::make_unique<tls::FrameStream>(std::move(stream), options_.limits);
  out_.clear();
  wire::Hello hello{options_.agent_id, options_.gateway, options_.software_version, lowest_unacked, highest_unacked};
  if (Status s = wire::encode_hello(hello, out_, options_.limits); !s) return s;
  if (Status s = frames->write(out_, options_.write_timeout_ms); !s) return s;

  // In TLS 1.3 the collector judges our certificate after our handshake ends: a refusal shows up here.
  Status error;
  switch (frames->read_frame(frame_, options_.connect_timeout_ms, error)) {
    case tls::FrameStream::ReadResult::kFrame: break;
    case tls::FrameStream::ReadResult::kTimeout: return Status::error("no HELLO_ACK in time");
    case tls::FrameStream::ReadResult::kClosed: return Status::error("collector closed the connection after HELLO");
    case tls::FrameStream::ReadResult::kBadFrame:
      frames->send_error(frames->bad_frame_code(), error.message(), options_.write_timeout_ms);
      frames->close(kLingerMs);
      return error;
    case tls::FrameStream::ReadResult::kIoError: return error;
  }
  if (frame_.type == wire::FrameType::kError) {
    wire::WireError refusal;
    ++errors_received_;
    if (wire::decode_error(frame_.body, refusal, options_.limits)) last_error_code_ = refusal.code;
    frames->close(kLingerMs);
    return Status::error(fmt::format("collector refused: {}: {}", wire_error_code_name(refusal.code), refusal.message));
  }
  wire::HelloAck ack;
  Status decoded = frame_.type == wire::FrameType::kHelloAck
                       ? wire::decode_hello_ack(frame_.body, ack, options_.limits)
                       : Status::error(fmt::format("expected HELLO_ACK, got {}", frame_type_name(frame_.type)));
  if (!decoded) {
    frames->send_error(frame_.type == wire::FrameType::kHelloAck ? wire::WireErrorCode::kMalformedFrame
                                                                   : wire::WireErrorCode::kUnexpectedFrame,
                       decoded.message(), options_.write_timeout_ms);
    frames->close(kLingerMs);
    return decoded;
  }
  highest_committed_ = ack.highest_committed_sequence;
  collector_max_frame_bytes_ = ack.max_frame_bytes;
  connected_collector_ = collector;
  last_error_code_ = wire::WireErrorCode::kNone;
  in_flight_.clear();
  frames_ = std::move(frames);
  return Status::ok();
}

Status CollectorClient::send(std::uint64_t sequence, std::span<const std::uint8_t> frame) {
  if (!connected()) return Status::error("not connected");
  if (!in_flight_.empty() && sequence <= in_flight_.back()) {
    return Status::error(fmt::format("batch {} sent after batch {}", sequence, in_flight_.back()));
  }
  if (frame.size() > wire::kFrameHeaderBytes + collector_max_frame_bytes_) {
    return Status::error(fmt::format("batch {} frame of {} bytes is above the collector's limit of {}", sequence,
                                     frame.size(), collector_max_frame_bytes_));
  }
  if (Status s = frames_->write(frame, options_.write_timeout_ms); !s) {
    return fail(Status::error(fmt::format("sending batch {} to {}: {}", sequence, connected_collector_, s.message())));
  }
  in_flight_.push_back(sequence);
  ++batches_sent_;
  bytes_sent_ += frame.size();
  return Status::ok();
}

Status CollectorClient::poll_acks(std::vector<std::uint64_t>& acked, int timeout_ms) {
  if (!connected()) return Status::error("not connected");
  int wait_ms = timeout_ms;
  for (;;) {
    Status error;
    switch (frames_->read_frame(frame_, wait_ms, error)) {
      case tls::FrameStream::ReadResult::kFrame: break;
      case tls::FrameStream::ReadResult::kTimeout: return Status::ok();
      case tls::FrameStream::ReadResult::kClosed: return fail(Status::error("collector closed the connection"));
      case tls::FrameStream::ReadResult::kBadFrame:
        frames_->send_error(frames_->bad_frame_code(), error.message(), options_.write_timeout_ms);
        return fail(error);
      case tls::FrameStream::ReadResult::kIoError: return fail(error);
    }
    wait_ms = 0;  // after one frame, take only what is already there
    if (frame_.type == wire::FrameType::kError) {
      wire::WireError refusal;
      ++errors_received_;
      if (wire::decode_error(frame_.body, refusal, options_.limits)) last_error_code_ = refusal.code;
      spdlog::warn("shipper: collector {} sent ERROR {}: {}", connected_collector_, wire_error_code_name(refusal.code),
                   refusal.message);
      return fail(Status::error(fmt::format("collector error {}: {}", wire_error_code_name(refusal.code), refusal.message)));
    }
    wire::Ack ack;
    Status decoded = frame_.type == wire::FrameType::kAck
                         ? wire::decode_ack(frame_.body, ack)
                         : Status::error(fmt::format("unexpected {} from collector", frame_type_name(frame_.type)));
    if (decoded && (in_flight_.empty() || ack.sequence < in_flight_.front())) {
      decoded = Status::error(fmt::format("ACK {} for no batch in flight", ack.sequence));
    }
    if (!decoded) {
      frames_->send_error(frame_.type == wire::FrameType::kAck ? wire::WireErrorCode::kMalformedFrame
                                                               : wire::WireErrorCode::kUnexpectedFrame,
                          decoded.message(), options_.write_timeout_ms);
      return fail(decoded);
    }
    while (!in_flight_.empty() && in_flight_.front() <= ack.sequence) {
      acked.push_back(in_flight_.front());
      in_flight_.pop_front();
      ++batches_acked_;
    }
  }
}

void CollectorClient::disconnect() {
  if (frames_ == nullptr) return;
  frames_->close(kLingerMs);
  frames_.reset();
  in_flight_.clear();
  ++disconnects_;
}

Status CollectorClient::fail(Status status) {
  disconnect();
  return status;
}

void CollectorClient::report(StatsSink& sink) const {
  sink.counter("ship.connects", connects_);
  sink.counter("ship.connect_failures", connect_failures_);
  sink.counter("ship.disconnects", disconnects_);
  sink.counter("ship.batches_sent", batches_sent_);
  sink.counter("ship.bytes_sent", bytes_sent_);
  sink.counter("ship.batches_acked", batches_acked_);
  sink.counter("ship.errors_received", errors_received_);
  sink.counter("ship.reloads", reconfigurations_);
}

}  // namespace ipattrib::agent
