// TLS towards backends (a pool with `tls:`), on OpenSSL 3.
//
// One ClientContext per pool, built at load (and again on reload), shared by
// every worker and the health checker. The backend's certificate is verified
// against the configured CA bundle (or the system trust store) and against a
// name: the pool's server_name when set, else the endpoint's host (a DNS name,
// or an IP address checked against the certificate's IP subjectAltNames).
// That name is also sent as SNI, except for IP addresses (RFC 6066 forbids
// them there). TLS 1.2 and 1.3 are offered (backends are often older than the
// edge); a client certificate is presented when configured.
//
// Sessions: the last session a backend name issued is kept (one per name, under
// a mutex touched only on new connections) and offered on the next new
// connection, so pooled connections that are opened again resume instead of
// paying a full handshake.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "tls/server_context.h"

namespace rampart::tls {

struct ClientSettings {
  bool verify = true;           // false: encrypt only (no chain or name check): tests and labs
  std::string ca_file;          // PEM bundle the backend's chain must reach; empty: the system trust store
  std::string server_name;      // SNI and the name verified; empty: each endpoint's host
  std::string min_version = "1.2";  // "1.2" | "1.3"
  CertificatePair client_certificate;  // presented to the backend when cert_file is set
  bool allow_insecure_key_permissions = false;
};

class ClientContext {
 public:
  // Loads and checks everything; null with *error ("file: problem") on failure.
  static std::shared_ptr<ClientContext> create(const ClientSettings& settings, std::string* error);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  SSL_CTX* context() const { return ctx_; }
  const ClientSettings& settings() const { return settings_; }

  // Readies a new SSL (made from context()) for a backend whose address host is
  // `endpoint_host`: SNI, the name to verify, a session to resume. False when
  // OpenSSL refuses the name.
  bool prepare(SSL* ssl, std::string_view endpoint_host) const;
  // The name a handshake to `endpoint_host` is verified against.
  std::string verifiedName(std::string_view endpoint_host) const;
  // Why the last handshake on `ssl` failed verification, or "" when it did not.
  static std::string verifyError(SSL* ssl);

 private:
  ClientContext() = default;
  static int onNewSession(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* ctx_ = nullptr;
  ClientSettings settings_;
  mutable std::mutex mu_;
  mutable std::map<std::string, SSL_SESSION*, std::less<>> sessions_;  // by verified name, owned
};

}  // namespace rampart::tls
