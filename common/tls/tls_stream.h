// TlsStream: one established agent <-> collector connection, TLS or (tests
// only) plaintext, with blocking-style reads and writes that never wait longer
// than their timeout (poll() over a non-blocking socket). Errors carry
// OpenSSL's own text so a refused handshake says why in the log.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/tls/tcp_socket.h"
#include "common/tls/tls_context.h"
#include "ipattrib/status.h"

namespace ipattrib::tls {

// Identities a verified peer certificate claims, in the order an allow-list
// should try them: SAN DNS names, SAN URIs, then the subject CN. Empty when
// there is no certificate.
std::vector<std::string> peer_identity(const SSL* ssl);

class TlsStream {
 public:
  enum class IoResult { kOk, kTimeout, kClosed, kError };

  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Server side: runs the handshake (verifying the client certificate) on an
  // accepted socket, taking it over. On failure, certificate_rejected says
  // whether the client's certificate was missing or did not verify (an
  // authentication failure rather than a broken or slow handshake).
  static Status accept(const TlsContext& context, UniqueFd fd, int timeout_ms, std::unique_ptr<TlsStream>& out,
                       bool* certificate_rejected = nullptr);
  // Client side: runs the handshake, verifying the server certificate for
  // server_host (a DNS name, or an IP address matched against IP SANs).
  static Status connect(const TlsContext& context, UniqueFd fd, const std::string& server_host, int timeout_ms,
                        std::unique_ptr<TlsStream>& out);

  // Reads at least one byte (n > 0, kOk), or says why not. kClosed is an
  // orderly end (TLS close_notify or TCP FIN); kError fills `error`.
  IoResult read_some(std::span<std::uint8_t> buffer, std::size_t& n, int timeout_ms, Status& error);
  // Writes all of bytes or fails; timeout_ms bounds the whole write.
  Status write_all(std::span<const std::uint8_t> bytes, int timeout_ms);
  // Sends close_notify, half-closes and waits (at most timeout_ms) for the
  // peer to close too, so a last frame sent is not lost to a TCP reset.
  void shutdown(int timeout_ms);

  // The peer's certificate identities; empty in plaintext mode.
  const std::vector<std::string>& peer_identities() const { return peer_identities_; }
  bool plaintext() const { return ssl_ == nullptr; }
  // Negotiated protocol, e.g. "TLSv1.3", or "plaintext".
  const char* protocol() const { return ssl_ == nullptr ? "plaintext" : SSL_get_version(ssl_); }
  int fd() const { return fd_.get(); }

 private:
  TlsStream(UniqueFd fd, SSL* ssl) : fd_(std::move(fd)), ssl_(ssl) {}
  static Status handshake(const TlsContext& context, UniqueFd fd, bool server, const std::string& server_host,
                          int timeout_ms, std::unique_ptr<TlsStream>& out, bool* certificate_rejected);
  // Waits for what SSL_get_error asked for; false on timeout or poll error.
  bool wait_for(int ssl_error, std::int64_t deadline_ms);

  UniqueFd fd_;
  SSL* ssl_;  // nullptr in plaintext mode
  std::vector<std::string> peer_identities_;
};

}  // namespace ipattrib::tls
