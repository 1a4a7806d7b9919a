#include "collector/ingest/ingest_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "ipattrib/wire/batch_codec.h"
#include "ipattrib/wire/control_messages.h"

namespace ipattrib::collector {
namespace {

constexpr int kReadSliceMs = 200;  // how quickly a blocked read notices stop()
constexpr const char* kSoftwareVersion = "ipattrib-collector 0.1.0";

}  // namespace

IngestSession::IngestSession(tls::FrameStream& stream, LedgerStore& store, const IngestSessionSettings& settings,
                             IngestCounters& counters, const std::atomic<bool>& stopping, std::string peer)
    : stream_(stream), store_(store), settings_(settings), counters_(counters), stopping_(stopping),
      peer_(std::move(peer)) {}

void IngestSession::run() {
  if (!stream_.plaintext() && !authenticate_certificate()) {
    stream_.close(static_cast<int>(settings_.linger_ms));
    return;
  }
  wire::Frame frame;
  Next next = Next::kContinue;
  while (next == Next::kContinue && read_frame(frame)) {
    switch (frame.type) {
      case wire::FrameType::kHello:
        next = hello_seen_ ? refuse(wire::WireErrorCode::kUnexpectedFrame, "second HELLO", counters_.protocol_errors)
                           : on_hello(frame);
        break;
      case wire::FrameType::kBatch:
        next = hello_seen_ ? on_batch(frame)
                           : refuse(wire::WireErrorCode::kUnexpectedFrame, "BATCH before HELLO", counters_.protocol_errors);
        break;
      case wire::FrameType::kError: {
        wire::WireError error;
        if (wire::decode_error(frame.body, error, settings_.limits)) {
          spdlog::warn("ingest {}: agent '{}' sent ERROR {}: {}", peer_, agent_id_, wire_error_code_name(error.code),
                       error.message);
        }
        next = Next::kClose;  // an ERROR is never answered with an ERROR
        break;
      }
      default:
        next = refuse(wire::WireErrorCode::kUnexpectedFrame,
                      fmt::format("{} is not sent by agents", frame_type_name(frame.type)), counters_.protocol_errors);
    }
  }
  if (next == Next::kContinue && stopping_.load()) {
    stream_.send_error(wire::WireErrorCode::kShuttingDown, "collector stopping", static_cast<int>(settings_.write_timeout_ms));
  }
  if (hello_seen_) counters_.agents_connected.fetch_sub(1, std::memory_order_relaxed);
  stream_.close(static_cast<int>(settings_.linger_ms));
}

bool IngestSession::authenticate_certificate() {
  for (const std::string& identity : stream_.peer_identities()) {
    if (agent_allowed(settings_.allowed_agents, identity)) return true;
  }
  std::string names;
  for (const std::string& identity : stream_.peer_identities()) names += (names.empty() ? "" : ", ") + identity;
  refuse(wire::WireErrorCode::kNotAuthorized,
         fmt::format("certificate identity ({}) is not an allowed agent", names.empty() ? "none" : names),
         counters_.auth_failures);
  return false;
}

bool IngestSession::read_frame(wire::Frame& frame) {
  std::uint32_t idle_ms = 0;
  for (;;) {
    if (stopping_.load()) return false;
    Status error;
    switch (stream_.read_frame(frame, kReadSliceMs, error)) {
      case tls::FrameStream::ReadResult::kFrame: return true;
      case tls::FrameStream::ReadResult::kTimeout:
        idle_ms += kReadSliceMs;
        if (idle_ms >= settings_.idle_timeout_ms) {
          bump(counters_.idle_timeouts);
          spdlog::info("ingest {}: closing idle connection of agent '{}'", peer_, agent_id_);
          return false;
        }
        continue;
      case tls::FrameStream::ReadResult::kClosed: return false;
      case tls::FrameStream::ReadResult::kBadFrame:
        refuse(stream_.bad_frame_code(), error.message(), counters_.protocol_errors);
        return false;
      case tls::FrameStream::ReadResult::kIoError:
        spdlog::warn("ingest {}: agent '{}': {}", peer_, agent_id_, error.message());
        return false;
    }
  }
}

IngestSession::Next IngestSession::on_hello(const wire::Frame& frame) {
  wire::Hello hello;
  if (Status s = wire::decode_hello(frame.body, hello, settings_.limits); !s) {
    return refuse(wire::WireErrorCode::kMalformedFrame, "HELLO: " + s.message(), counters_.protocol_errors);
  }
  const auto& identities = stream_.peer_identities();
  const bool matches_certificate =
      stream_.plaintext() || std::find(identities.begin(), identities.end(), hello.agent_id) != identities.end();
  if (!matches_certificate || !agent_allowed(settings_.allowed_agents, hello.agent_id)) {
    return refuse(wire::WireErrorCode::kNotAuthorized,
                  fmt::format("HELLO agent id '{}' {}", hello.agent_id,
                              matches_certificate ? "is not allowed" : "does not match the certificate"),
                  counters_.auth_failures);
  }
  if (Status s = store_.highest_sequence(hello.agent_id, highest_committed_); !s) {
    return refuse(wire::WireErrorCode::kInternal, "ledger unavailable: " + s.message(), counters_.store_errors);
  }
  highest_observed_ = highest_committed_;
  if (settings_.observer != nullptr) {
    if (Status s = settings_.observer->handled_sequence(hello.agent_id, highest_observed_); !s) {
      return refuse(wire::WireErrorCode::kInternal, "alert store unavailable: " + s.message(),
                    counters_.observer_errors);
    }
  }
  agent_id_ = hello.agent_id;
  hello_seen_ = true;
  bump(counters_.agents_connected);
  spdlog::info("ingest {}: agent '{}' ({}) connected; committed up to {}, holds {}..{}", peer_, agent_id_,
               hello.software_version, highest_committed_, hello.lowest_unacked_sequence,
               hello.highest_unacked_sequence);
  out_.clear();
  wire::HelloAck ack{forgettable_sequence(hello), settings_.limits.max_frame_bytes, kSoftwareVersion};
  if (Status s = wire::encode_hello_ack(ack, out_, settings_.limits); !s) {
    return refuse(wire::WireErrorCode::kInternal, s.message(), counters_.protocol_errors);
  }
  if (Status s = stream_.write(out_, static_cast<int>(settings_.write_timeout_ms)); !s) {
    spdlog::warn("ingest {}: agent '{}': {}", peer_, agent_id_, s.message());
    return Next::kClose;
  }
  return Next::kContinue;
}

std::uint64_t IngestSession::forgettable_sequence(const wire::Hello& hello) const {
  // The agent drops what it holds up to the value HELLO_ACK reports. Batches
  // the ledger committed but the observer has not handled (a crash between
  // the two commits) must come back, so the value stops below them — but
  // only when the agent still holds them: an agent whose spool is empty or
  // was lost must not reuse sequences the ledger already has.
  if (highest_observed_ >= highest_committed_ || hello.lowest_unacked_sequence == 0 ||
      hello.lowest_unacked_sequence > highest_committed_) {
    return highest_committed_;
  }
  return std::max(highest_observed_, hello.lowest_unacked_sequence - 1);
}

IngestSession::Next IngestSession::on_batch(const wire::Frame& frame) {
  wire::BatchHeader header;
  if (Status s = wire::peek_batch_header(frame.body, header, settings_.limits); !s) {
    return refuse(wire::WireErrorCode::kBadBatch, s.message(), counters_.protocol_errors);
  }
  if (header.agent_id != agent_id_) {
    return refuse(wire::WireErrorCode::kNotAuthorized,
                  fmt::format("BATCH agent id '{}' is not the HELLO's", header.agent_id), counters_.auth_failures);
  }
  if (header.sequence <= last_sequence_) {
    return refuse(wire::WireErrorCode::kSequenceNotIncreasing,
                  fmt::format("BATCH {} after {}", header.sequence, last_sequence_), counters_.protocol_errors);
  }
  last_sequence_ = header.sequence;
  if (header.sequence <= highest_committed_ && header.sequence <= highest_observed_) {
    bump(counters_.duplicate_batches);  // a retransmission: acknowledge, apply nothing, decode nothing
    return send_ack(header.sequence);
  }
  if (Status s = wire::decode_batch(frame.body, batch_, settings_.limits); !s) {
    return refuse(wire::WireErrorCode::kBadBatch, fmt::format("BATCH {}: {}", header.sequence, s.message()),
                  counters_.protocol_errors);
  }
  if (commit_to_ledger(header.sequence) == Next::kClose) return Next::kClose;
  if (notify_observer(header.sequence) == Next::kClose) return Next::kClose;
  return send_ack(header.sequence);
}

IngestSession::Next IngestSession::commit_to_ledger(std::uint64_t sequence) {
  if (sequence <= highest_committed_) {
    bump(counters_.duplicate_batches);  // committed before the observer's crash: only the observer runs
    return Next::kContinue;
  }
  ApplyResult result;
  const auto started = std::chrono::steady_clock::now();
  if (Status s = store_.apply_batch(batch_, result); !s) {
    return refuse(wire::WireErrorCode::kInternal, fmt::format("BATCH {} not committed: {}", sequence, s.message()),
                  counters_.store_errors);
  }
  counters_.store_apply_seconds.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (result.duplicate) {
    bump(counters_.duplicate_batches);  // another connection of this agent committed it first
  } else {
    bump(counters_.batches);
    bump(counters_.records, result.records_applied);
    bump(counters_.accesses, result.accesses_applied);
  }
  highest_committed_ = sequence;
  return Next::kContinue;
}

IngestSession::Next IngestSession::notify_observer(std::uint64_t sequence) {
  if (settings_.observer == nullptr || sequence <= highest_observed_) {
    highest_observed_ = std::max(highest_observed_, sequence);
    return Next::kContinue;
  }
  if (Status s = settings_.observer->on_committed(batch_); !s) {
    return refuse(wire::WireErrorCode::kInternal,
                  fmt::format("BATCH {} committed but not evaluated: {}", sequence, s.message()),
                  counters_.observer_errors);
  }
  highest_observed_ = sequence;
  return Next::kContinue;
}

IngestSession::Next IngestSession::send_ack(std::uint64_t sequence) {
  out_.clear();
  if (Status s = wire::encode_ack(wire::Ack{sequence}, out_); !s) {
    return refuse(wire::WireErrorCode::kInternal, s.message(), counters_.protocol_errors);
  }
  if (Status s = stream_.write(out_, static_cast<int>(settings_.write_timeout_ms)); !s) {
    spdlog::warn("ingest {}: agent '{}': ACK {}: {}", peer_, agent_id_, sequence, s.message());
    return Next::kClose;
  }
  return Next::kContinue;
}

IngestSession::Next IngestSession::refuse(wire::WireErrorCode code, const std::string& message,
                                          std::atomic<std::uint64_t>& counter) {
  bump(counter);
  spdlog::warn("ingest {}: agent '{}' refused ({}): {}", peer_, agent_id_.empty() ? "?" : agent_id_,
               wire_error_code_name(code), message);
  stream_.send_error(code, message, static_cast<int>(settings_.write_timeout_ms));
  return Next::kClose;
}

}  // namespace ipattrib::collector
