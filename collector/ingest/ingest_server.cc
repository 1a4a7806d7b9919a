#include "collector/ingest/ingest_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/tls/frame_stream.h"
#include "common/tls/tls_stream.h"

namespace ipattrib::collector {
namespace {

constexpr int kHandshakeTimeoutMs = 10'000;
constexpr int kAcceptSliceMs = 200;  // how quickly the accept loop notices stop()

std::string peer_name(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    port = ntohs(v4->sin_port);
    return fmt::format("{}:{}", text, port);
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  port = ntohs(v6->sin6_port);
  return fmt::format("[{}]:{}", text, port);
}

Status make_tls_context(const IngestConfig& config, std::shared_ptr<tls::TlsContext>& out) {
  std::unique_ptr<tls::TlsContext> context;
  if (config.plaintext_for_tests) {
    context = tls::TlsContext::make_plaintext_for_tests("ingest");
  } else if (Status s = tls::TlsContext::make_server({config.tls_ca, config.tls_cert, config.tls_key}, context); !s) {
    return s;
  }
  out = std::move(context);
  return Status::ok();
}

}  // namespace

IngestServer::IngestServer(const IngestConfig& config, LedgerStore& store, const wire::WireLimits& limits)
    : config_(config), store_(store) {
  auto settings = std::make_shared<IngestSessionSettings>();
  settings->allowed_agents = config.allowed_agents;
  settings->limits = limits;
  settings->idle_timeout_ms = config.idle_timeout_s * 1000;
  settings_ = std::move(settings);
}

IngestServer::~IngestServer() { stop(); }

void IngestServer::set_committed_batch_observer(CommittedBatchObserver* observer) {
  std::lock_guard lock(current_mutex_);
  auto settings = std::make_shared<IngestSessionSettings>(*settings_);
  settings->observer = observer;
  settings_ = std::move(settings);
}

Status IngestServer::reload(const IngestConfig& config) {
  std::shared_ptr<tls::TlsContext> tls;
  if (Status s = make_tls_context(config, tls); !s) return s;
  if (config.listen != config_.listen || config.max_connections != config_.max_connections ||
      config.plaintext_for_tests != config_.plaintext_for_tests) {
    spdlog::warn("ingest: listen, max_connections and plaintext_for_tests changes need a restart; kept {}, {}",
                 config_.listen, config_.max_connections);
  }
  std::lock_guard lock(current_mutex_);
  auto settings = std::make_shared<IngestSessionSettings>(*settings_);
  settings->allowed_agents = config.allowed_agents;
  settings->idle_timeout_ms = config.idle_timeout_s * 1000;
  settings_ = std::move(settings);
  tls_ = std::move(tls);
  return Status::ok();
}

Status IngestServer::start() {
  {
    std::lock_guard lock(current_mutex_);
    if (Status s = make_tls_context(config_, tls_); !s) return s;
  }
  tls::HostPort address;
  if (Status s = tls::parse_host_port(config_.listen, address); !s) return Status::error("ingest listen: " + s.message());
  if (Status s = tls::listen_tcp(address, 128, listener_, port_); !s) return Status::error("ingest " + s.message());
  tls::ignore_sigpipe();
  spdlog::info("ingest: listening on {}:{} ({})", address.host, port_, config_.plaintext_for_tests ? "PLAINTEXT" : "TLS 1.3, mutual auth");
  accept_thread_ = std::thread([this] { accept_loop(); });
  return Status::ok();
}

void IngestServer::stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  reap(true);
  listener_.reset();
}

void IngestServer::accept_loop() {
  while (!stopping_.load()) {
    reap(false);
    pollfd p{listener_.get(), POLLIN, 0};
    if (poll(&p, 1, kAcceptSliceMs) <= 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    tls::UniqueFd fd(accept4(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) spdlog::warn("ingest: accept: {}", std::strerror(errno));
      continue;
    }
    bump(counters_.connections);
    std::string peer = peer_name(addr);
    std::lock_guard lock(connections_mutex_);
    if (connections_.size() >= config_.max_connections) {
      bump(counters_.connections_rejected);
      spdlog::warn("ingest: {} refused: {} connections open (max_connections)", peer, connections_.size());
      continue;  // fd closes here
    }
    Connection& connection = connections_.emplace_back();
    bump(counters_.connections_active);
    connection.thread = std::thread([this, fd = std::move(fd), peer = std::move(peer), &connection]() mutable {
      serve(std::move(fd), std::move(peer), connection);
    });
  }
}

void IngestServer::serve(tls::UniqueFd fd, std::string peer, Connection& connection) {
  std::shared_ptr<const IngestSessionSettings> settings;
  std::shared_ptr<tls::TlsContext> tls;
  {
    std::lock_guard lock(current_mutex_);
    settings = settings_;
    tls = tls_;
  }
  std::unique_ptr<tls::TlsStream> stream;
  bool certificate_rejected = false;
  if (Status s = tls::TlsStream::accept(*tls, std::move(fd), kHandshakeTimeoutMs, stream, &certificate_rejected); !s) {
    bump(certificate_rejected ? counters_.auth_failures : counters_.handshake_failures);
    spdlog::warn("ingest {}: refused: {}", peer, s.message());
  } else {
    tls::FrameStream frames(std::move(stream), settings->limits);
    IngestSession(frames, store_, *settings, counters_, stopping_, peer).run();
  }
  counters_.connections_active.fetch_sub(1, std::memory_order_relaxed);
  connection.done.store(true);
}

void IngestServer::reap(bool all) {
  std::list<Connection> finished;
  {
    std::lock_guard lock(connections_mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (all || it->done.load()) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& connection : finished) connection.thread.join();
}

}  // namespace ipattrib::collector
