// TlsContext: the OpenSSL configuration of one side of the agent <-> collector
// link — TLS 1.3 only, mutual certificate authentication (the collector
// requires and verifies a client certificate; the agent verifies the
// collector's certificate and its host name or IP). A plaintext context exists
// for tests only and says so loudly in the log when it is made.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "ipattrib/status.h"

namespace ipattrib::tls {

// PEM files: the CA that signs the peer's certificate, this side's
// certificate (chain) and its private key.
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

class TlsContext {
 public:
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  static Status make_server(const TlsFiles& files, std::unique_ptr<TlsContext>& out);
  static Status make_client(const TlsFiles& files, std::unique_ptr<TlsContext>& out);
  // No encryption, no authentication: for tests only. `who` names the side in
  // the warning it logs.
  static std::unique_ptr<TlsContext> make_plaintext_for_tests(const std::string& who);

  bool plaintext() const { return ctx_ == nullptr; }
  bool is_server() const { return server_; }
  SSL_CTX* native() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  static Status make(const TlsFiles& files, bool server, std::unique_ptr<TlsContext>& out);

  SSL_CTX* ctx_;  // nullptr in plaintext mode
  bool server_;
};

// Takes every queued OpenSSL error off this thread's error queue as one
// "; "-separated string ("" when none), so a Status can carry it.
std::string drain_openssl_errors();

}  // namespace ipattrib::tls
