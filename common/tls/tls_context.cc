#include "common/tls/tls_context.h"

#include <openssl/err.h>
#include <spdlog/spdlog.h>

namespace ipattrib::tls {

std::string drain_openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text;
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

Status TlsContext::make_server(const TlsFiles& files, std::unique_ptr<TlsContext>& out) {
  return make(files, true, out);
}

Status TlsContext::make_client(const TlsFiles& files, std::unique_ptr<TlsContext>& out) {
  return make(files, false, out);
}

std::unique_ptr<TlsContext> TlsContext::make_plaintext_for_tests(const std::string& who) {
  spdlog::warn("{}: PLAINTEXT MODE — no TLS, no authentication, traffic readable and forgeable on the network. "
               "For tests only; never in production.",
               who);
  return std::unique_ptr<TlsContext>(new TlsContext(nullptr, false));
}

Status TlsContext::make(const TlsFiles& files, bool server, std::unique_ptr<TlsContext>& out) {
  const char* side = server ? "server" : "client";
  if (files.ca_file.empty() || files.cert_file.empty() || files.key_file.empty()) {
    return Status::error(fmt::format("TLS {}: CA, certificate and key files are all required", side));
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return Status::error(fmt::format("TLS {}: SSL_CTX_new: {}", side, drain_openssl_errors()));
  std::unique_ptr<TlsContext> context(new TlsContext(ctx, server));

  // TLS 1.3 only: no downgrade, no renegotiation, forward secrecy always.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return Status::error(fmt::format("TLS {}: cannot require TLS 1.3: {}", side, drain_openssl_errors()));
  }
  if (SSL_CTX_load_verify_locations(ctx, files.ca_file.c_str(), nullptr) != 1) {
    return Status::error(fmt::format("TLS {}: CA file {}: {}", side, files.ca_file, drain_openssl_errors()));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return Status::error(
        fmt::format("TLS {}: certificate file {}: {}", side, files.cert_file, drain_openssl_errors()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::error(fmt::format("TLS {}: key file {}: {}", side, files.key_file, drain_openssl_errors()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::error(fmt::format("TLS {}: key {} does not match certificate {}: {}", side, files.key_file,
                                     files.cert_file, drain_openssl_errors()));
  }
  if (server) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // The CA names sent in the CertificateRequest help an agent with several certs pick the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  // The sockets are non-blocking: a write cut short by a poll timeout slice is resumed with the same buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  ERR_clear_error();
  out = std::move(context);
  return Status::ok();
}

}  // namespace ipattrib::tls
