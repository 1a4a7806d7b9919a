#include "common/tls/frame_stream.h"

#include "ipattrib/wire/control_messages.h"

namespace ipattrib::tls {

FrameStream::FrameStream(std::unique_ptr<TlsStream> stream, const wire::WireLimits& limits)
    : stream_(std::move(stream)), limits_(limits), reader_(limits) {}

FrameStream::ReadResult FrameStream::read_frame(wire::Frame& frame, int timeout_ms, Status& error) {
  for (;;) {
    switch (reader_.next(frame)) {
      case wire::FrameReader::Result::kFrame: return ReadResult::kFrame;
      case wire::FrameReader::Result::kError: error = reader_.error(); return ReadResult::kBadFrame;
      case wire::FrameReader::Result::kNeedMore: break;
    }
    if (input_begin_ < input_end_) {
      input_begin_ += reader_.feed(std::span<const std::uint8_t>(input_.data() + input_begin_, input_end_ - input_begin_));
      continue;
    }
    std::size_t n = 0;
    switch (stream_->read_some(input_, n, timeout_ms, error)) {
      case TlsStream::IoResult::kOk:
        input_begin_ = 0;
        input_end_ = n;
        continue;
      case TlsStream::IoResult::kTimeout: return ReadResult::kTimeout;
      case TlsStream::IoResult::kClosed:
        if (reader_.buffered_bytes() == 0) return ReadResult::kClosed;
        error = Status::error("connection closed inside a frame");
        return ReadResult::kIoError;
      case TlsStream::IoResult::kError: return ReadResult::kIoError;
    }
  }
}

void FrameStream::send_error(wire::WireErrorCode code, const std::string& message, int timeout_ms) {
  std::vector<std::uint8_t> out;
  if (wire::encode_error(wire::WireError{code, message}, out, limits_)) (void)stream_->write_all(out, timeout_ms);
}

}  // namespace ipattrib::tls
