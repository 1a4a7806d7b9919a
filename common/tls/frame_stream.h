// FrameStream: protocol frames (docs/protocol.md) over a TlsStream — the part
// of a connection both the collector's ingest and the agent's client share.
// Reading goes through a bounded wire::FrameReader, so a peer can make it
// hold at most one frame; a bad header is reported with the ERROR code the
// reader must answer with before closing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/tls/tls_stream.h"
#include "ipattrib/status.h"
#include "ipattrib/wire/frame.h"
#include "ipattrib/wire/wire_limits.h"

namespace ipattrib::tls {

class FrameStream {
 public:
  enum class ReadResult {
    kFrame,     // a whole frame was read
    kTimeout,   // no whole frame yet; what arrived is kept for the next call
    kClosed,    // the peer closed cleanly between frames
    kBadFrame,  // the peer sent bytes that are not a frame: answer bad_frame_code(), then close
    kIoError,   // TLS or socket failure, or the peer closed inside a frame
  };

  FrameStream(std::unique_ptr<TlsStream> stream, const wire::WireLimits& limits);

  ReadResult read_frame(wire::Frame& frame, int timeout_ms, Status& error);
  wire::WireErrorCode bad_frame_code() const { return reader_.error_code(); }

  Status write(std::span<const std::uint8_t> bytes, int timeout_ms) { return stream_->write_all(bytes, timeout_ms); }
  // Best effort: ERROR frame with code and message (cut to the string limit).
  void send_error(wire::WireErrorCode code, const std::string& message, int timeout_ms);
  // close_notify and a lingering close bounded by linger_ms.
  void close(int linger_ms) { stream_->shutdown(linger_ms); }

  const std::vector<std::string>& peer_identities() const { return stream_->peer_identities(); }
  bool plaintext() const { return stream_->plaintext(); }

 private:
  std::unique_ptr<TlsStream> stream_;
  wire::WireLimits limits_;
  wire::FrameReader reader_;
  std::array<std::uint8_t, 16384> input_{};  // bytes read but not yet fed to reader_
  std::size_t input_begin_ = 0;
  std::size_t input_end_ = 0;
};

}  // namespace ipattrib::tls
