// CollectorClient: the agent's end of the link to the collector — connect to
// the first reachable collector of a list (failover in order), mutual TLS with
// the agent's certificate, HELLO/HELLO_ACK, pipelined BATCH frames and their
// cumulative ACKs (docs/protocol.md 6). It is synchronous and keeps no
// batches: the caller (the shipper thread with its DiskSpool) owns them,
// drops those at or below highest_committed() after connect(), and resends
// every unacknowledged one after a reconnect.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/tls/frame_stream.h"
#include "common/tls/tls_context.h"
#include "ipattrib/stats_sink.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/frame.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::agent {

struct CollectorClientOptions {
  std::vector<std::string> collectors;  // "host:port", tried in order
  tls::TlsFiles tls;                    // CA of the collector's cert, the agent's cert and key
  bool plaintext_for_tests = false;
  std::string agent_id;  // must equal the identity in the agent's certificate
  std::string gateway;
  std::string software_version = "ipattrib-agent 0.1.0";
  int connect_timeout_ms = 5000;  // TCP connect + TLS handshake + HELLO_ACK, per collector
  int write_timeout_ms = 30000;
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  wire::WireLimits limits;
};

class CollectorClient {
 public:
  // Fails when the TLS files cannot be loaded or a collector address is invalid.
  static Status create(const CollectorClientOptions& options, std::unique_ptr<CollectorClient>& out);
  // What create() checks and loads, usable on another thread before
  // reconfigure(): every collector address parses, and the TLS files (or
  // the plaintext test mode) make a context.
  static Status check_collectors(const std::vector<std::string>& collectors);
  static Status make_tls(const CollectorClientOptions& options, std::unique_ptr<tls::TlsContext>& out);

  // A reload (SIGHUP): the next connections use `collectors` and `tls`. The
  // connection in use is kept (an OpenSSL session holds its own reference to
  // the old context) unless its collector is no longer listed; then it is
  // closed and the caller reconnects and resends what was unacknowledged.
  void reconfigure(std::vector<std::string> collectors, std::unique_ptr<tls::TlsContext> tls);

  // Tries each collector in order until one completes HELLO/HELLO_ACK. The
  // unacked range goes into HELLO (0, 0 when the spool is empty). On failure
  // the reconnect delay grows (exponential, capped); on success it resets.
  Status connect(std::uint64_t lowest_unacked, std::uint64_t highest_unacked);
  bool connected() const { return frames_ != nullptr; }
  // How long the caller should wait before the next connect() after a failure.
  std::chrono::milliseconds reconnect_delay() const { return backoff_; }
  // From the last HELLO_ACK: batches up to here are in the ledger.
  std::uint64_t highest_committed() const { return highest_committed_; }
  // The collector's frame limit from HELLO_ACK; a frame above it would be refused.
  std::uint32_t collector_max_frame_bytes() const { return collector_max_frame_bytes_; }
  const std::string& connected_collector() const { return connected_collector_; }

  // Sends one whole BATCH frame (as made by wire::encode_batch) without
  // waiting for its ACK. Sequences must increase on a connection. A failure
  // disconnects.
  Status send(std::uint64_t sequence, std::span<const std::uint8_t> frame);
  // Reads the ACKs that arrive within timeout_ms (0 = only what is already
  // there) and appends each acknowledged sequence, in order, to `acked`
  // (cumulative: an ACK for s acknowledges every sent batch up to s). An
  // ERROR from the collector, a broken connection or a bad frame returns an
  // error and disconnects; last_error_code() then says which ERROR came.
  Status poll_acks(std::vector<std::uint64_t>& acked, int timeout_ms);
  // Sent and not yet acknowledged on this connection.
  std::size_t in_flight() const { return in_flight_.size(); }
  wire::WireErrorCode last_error_code() const { return last_error_code_; }

  void disconnect();
  void report(StatsSink& sink) const;

 private:
  explicit CollectorClient(const CollectorClientOptions& options) : options_(options) {}
  Status connect_to(const std::string& collector, std::uint64_t lowest_unacked, std::uint64_t highest_unacked);
  Status fail(Status status);  // disconnects and passes the status on

  CollectorClientOptions options_;
  std::unique_ptr<tls::TlsContext> tls_;
  std::unique_ptr<tls::FrameStream> frames_;
  std::string connected_collector_;
  std::uint64_t highest_committed_ = 0;
  std::uint32_t collector_max_frame_bytes_ = 0;
  std::deque<std::uint64_t> in_flight_;
  std::chrono::milliseconds backoff_{0};
  wire::WireErrorCode last_error_code_ = wire::WireErrorCode::kNone;
  wire::Frame frame_;
  std::vector<std::uint8_t> out_;

  std::uint64_t connects_ = 0;
  std::uint64_t connect_failures_ = 0;
  std::uint64_t disconnects_ = 0;
  std::uint64_t batches_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t batches_acked_ = 0;
  std::uint64_t errors_received_ = 0;
  std::uint64_t reconfigurations_ = 0;
};

}  // namespace ipattrib::agent
