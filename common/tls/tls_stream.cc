#include "common/tls/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>

namespace ipattrib::tls {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int remaining(std::int64_t deadline_ms) {
  std::int64_t left = deadline_ms - now_ms();
  return left <= 0 ? 0 : static_cast<int>(left);
}

bool poll_fd(int fd, short events, std::int64_t deadline_ms) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, remaining(deadline_ms));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string ssl_failure(SSL* ssl, int rc, const char* what) {
  int err = SSL_get_error(ssl, rc);
  std::string detail = drain_openssl_errors();
  if (err == SSL_ERROR_SYSCALL && detail.empty()) detail = errno != 0 ? std::strerror(errno) : "connection closed";
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) detail += fmt::format(" (certificate: {})", X509_verify_cert_error_string(verify));
  return fmt::format("{}: {}", what, detail.empty() ? "SSL error " + std::to_string(err) : detail);
}

bool certificate_problem(SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return true;
  int reason = ERR_GET_REASON(ERR_peek_error());
  return reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE || reason == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

}  // namespace

std::vector<std::string> peer_identity(const SSL* ssl) {
  std::vector<std::string> names;
  if (ssl == nullptr) return names;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int type : {GEN_DNS, GEN_URI}) {
      for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
        if (name->type != type) continue;
        const ASN1_IA5STRING* text = type == GEN_DNS ? name->d.dNSName : name->d.uniformResourceIdentifier;
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                           static_cast<std::size_t>(ASN1_STRING_length(text)));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  const X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                       static_cast<std::size_t>(ASN1_STRING_length(cn)));
  }
  // An embedded NUL would let "agent-1\0.evil" pass as "agent-1" in C string comparisons.
  std::erase_if(names, [](const std::string& n) { return n.empty() || n.find('\0') != std::string::npos; });
  return names;
}

TlsStream::~TlsStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

Status TlsStream::accept(const TlsContext& context, UniqueFd fd, int timeout_ms, std::unique_ptr<TlsStream>& out,
                         bool* certificate_rejected) {
  return handshake(context, std::move(fd), true, "", timeout_ms, out, certificate_rejected);
}

Status TlsStream::connect(const TlsContext& context, UniqueFd fd, const std::string& server_host, int timeout_ms,
                          std::unique_ptr<TlsStream>& out) {
  return handshake(context, std::move(fd), false, server_host, timeout_ms, out, nullptr);
}

Status TlsStream::handshake(const TlsContext& context, UniqueFd fd, bool server, const std::string& server_host,
                            int timeout_ms, std::unique_ptr<TlsStream>& out, bool* certificate_rejected) {
  ignore_sigpipe();
  if (certificate_rejected != nullptr) *certificate_rejected = false;
  if (context.plaintext()) {
    out.reset(new TlsStream(std::move(fd), nullptr));
    return Status::ok();
  }
  ERR_clear_error();
  SSL* ssl = SSL_new(context.native());
  if (ssl == nullptr) return Status::error(fmt::format("SSL_new: {}", drain_openssl_errors()));
  std::unique_ptr<TlsStream> stream(new TlsStream(std::move(fd), ssl));
  if (SSL_set_fd(ssl, stream->fd()) != 1) return Status::error(fmt::format("SSL_set_fd: {}", drain_openssl_errors()));
  if (!server) {
    int ok = is_ip_literal(server_host) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_host.c_str())
                                        : SSL_set1_host(ssl, server_host.c_str());
    if (ok != 1) return Status::error(fmt::format("cannot verify host '{}': {}", server_host, drain_openssl_errors()));
    if (!is_ip_literal(server_host)) SSL_set_tlsext_host_name(ssl, server_host.c_str());
  }
  const std::int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    errno = 0;
    int rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
    if (rc == 1) break;
    int err = SSL_get_error(ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      if (certificate_rejected != nullptr) *certificate_rejected = certificate_problem(ssl);
      return Status::error(ssl_failure(ssl, rc, "TLS handshake"));
    }
    if (!stream->wait_for(err, deadline)) return Status::error("TLS handshake timed out");
  }
  stream->peer_identities_ = peer_identity(ssl);
  out = std::move(stream);
  return Status::ok();
}

bool TlsStream::wait_for(int ssl_error, std::int64_t deadline_ms) {
  return poll_fd(fd(), ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline_ms);
}

TlsStream::IoResult TlsStream::read_some(std::span<std::uint8_t> buffer, std::size_t& n, int timeout_ms,
                                         Status& error) {
  n = 0;
  if (buffer.empty()) return IoResult::kOk;
  const std::int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    if (ssl_ == nullptr) {
      ssize_t got = ::recv(fd(), buffer.data(), buffer.size(), 0);
      if (got > 0) {
        n = static_cast<std::size_t>(got);
        return IoResult::kOk;
      }
      if (got == 0) return IoResult::kClosed;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error = Status::error(fmt::format("recv: {}", std::strerror(errno)));
        return IoResult::kError;
      }
      if (!poll_fd(fd(), POLLIN, deadline)) return IoResult::kTimeout;
      continue;
    }
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read(ssl_, buffer.data(), static_cast<int>(std::min<std::size_t>(buffer.size(), 1 << 30)));
    if (rc > 0) {
      n = static_cast<std::size_t>(rc);
      return IoResult::kOk;
    }
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_ZERO_RETURN) return IoResult::kClosed;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!wait_for(err, deadline)) return IoResult::kTimeout;
      continue;
    }
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return IoResult::kClosed;
    error = Status::error(ssl_failure(ssl_, rc, "TLS read"));
    return IoResult::kError;
  }
}

Status TlsStream::write_all(std::span<const std::uint8_t> bytes, int timeout_ms) {
  const std::int64_t deadline = now_ms() + timeout_ms;
  while (!bytes.empty()) {
    if (ssl_ == nullptr) {
      ssize_t sent = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        bytes = bytes.subspan(static_cast<std::size_t>(sent));
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return Status::error(fmt::format("send: {}", std::strerror(errno)));
      }
      if (!poll_fd(fd(), POLLOUT, deadline)) return Status::error("write timed out");
      continue;
    }
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
    if (rc > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(rc));
      continue;
    }
    int err = SSL_get_error(ssl_, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      return Status::error(ssl_failure(ssl_, rc, "TLS write"));
    }
    if (!wait_for(err, deadline)) return Status::error("write timed out");
  }
  return Status::ok();
}

void TlsStream::shutdown(int timeout_ms) {
  if (ssl_ != nullptr && fd_.valid()) {
    const std::int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
      ERR_clear_error();
      int rc = SSL_shutdown(ssl_);
      if (rc >= 0) break;  // close_notify sent; waiting for the peer's is not needed to close
      int err = SSL_get_error(ssl_, rc);
      if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) || !wait_for(err, deadline)) break;
    }
    ERR_clear_error();
  }
  if (fd_.valid()) {
    // Lingering close: closing with unread input makes the kernel send RST, which can destroy an ERROR frame
    // the peer has not read yet. Half-close, then discard input until the peer closes or time is up.
    ::shutdown(fd_.get(), SHUT_WR);
    const std::int64_t deadline = now_ms() + timeout_ms;
    std::uint8_t sink[4096];
    while (poll_fd(fd_.get(), POLLIN, deadline)) {
      ssize_t got = ::recv(fd_.get(), sink, sizeof(sink), 0);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
  }
  fd_.reset();
}

}  // namespace ipattrib::tls
