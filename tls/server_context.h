// TLS termination contexts for one listener, on OpenSSL 3.
//
// Certificates are grouped by the names they serve (their DNS subjectAltNames,
// or the CN when there are none): one SSL_CTX per group, holding every key type
// configured for those names (an RSA and an ECDSA certificate for the same
// names live in one context and OpenSSL picks by the client's signature
// algorithms). The SNI callback switches a connection to the group whose names
// match the requested host exactly, else by a leading wildcard; with no match,
// or no SNI, the first certificate's group answers (the default).
//
// Protocol: TLS 1.3 always; TLS 1.2 only with min_version "1.2" (then the
// profile's cipher list applies: "modern" allows only TLS 1.3, "intermediate"
// is Mozilla's TLS 1.2 list of ECDHE + AEAD suites); no compression, no
// renegotiation, 0-RTT off. ALPN: http/1.1. Session resumption: tickets (keys
// per listener context, shared by all workers because every worker uses the
// same SSL_CTX) plus a server-side session cache.
//
// Private keys must not be readable by group or others unless
// allow_insecure_key_permissions is set (as sshd refuses such keys).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace rampart::tls {

struct CertificatePair {
  std::string cert_file;  // PEM, leaf first then the chain
  std::string key_file;   // PEM
  std::string ocsp_file;  // optional: a DER OCSP response for the leaf, stapled to handshakes
};

struct ClientCertificates {
  enum class Mode { None, Optional, Required } mode = Mode::None;
  std::string ca_file;          // PEM bundle of the CAs client certificates must chain to
  int verify_depth = 3;
  std::string subject_header;   // passed to backends when set (client-sent copies removed)
  std::string fingerprint_header;
};

struct ServerSettings {
  std::vector<CertificatePair> certificates;  // empty: a self-signed certificate for localhost
  std::string min_version = "1.3";            // "1.3" | "1.2"
  std::string profile = "modern";             // "modern" | "intermediate"
  // Explicit lists (OpenSSL syntax, ':'-separated) instead of the profile's; empty: the profile's.
  std::string ciphersuites;  // TLS 1.3 suites
  std::string ciphers;       // TLS 1.2 ciphers (min_version "1.2")
  std::string groups;        // key exchange groups
  // Reload (as on SIGHUP) when a certificate, key, OCSP or client CA file changes (polled every 2 s).
  bool watch = false;
  std::vector<std::string> alpn = {"http/1.1"};
  bool allow_insecure_key_permissions = false;
  uint32_t session_cache_size = 20480;
  uint32_t session_timeout_seconds = 3600;
  uint32_t ticket_key_rotation_seconds = 43200;  // a new ticket key this often; the previous ones are
                                                 // still accepted for session_timeout
  ClientCertificates client;
};

// Session ticket keys of a listener, shared by all its workers (one SSL_CTX)
// and carried across reloads, so that resumption survives both. Rotated on a
// schedule; a ticket under an older key still resumes (and is renewed) while
// that key is younger than the session timeout.
class TicketKeys {
 public:
  TicketKeys(uint32_t rotation_seconds, uint32_t lifetime_seconds)
      : rotation_(rotation_seconds), lifetime_(lifetime_seconds) {}
  struct Key {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    int64_t created = 0;  // unix seconds
  };
  // The key to issue tickets under (rotating first when due).
  Key current();
  // The key named `name`, if still accepted; *renew when it is not the current one.
  bool find(const unsigned char* name, Key* out, bool* renew);
  void setSchedule(uint32_t rotation_seconds, uint32_t lifetime_seconds);
  size_t rotations() const { return rotations_; }

 private:
  void rotateLocked(int64_t now);
  std::mutex mu_;
  std::vector<Key> keys_;  // newest last
  uint32_t rotation_, lifetime_;
  size_t rotations_ = 0;
};

// The verified client certificate of a connection, for routing and backends.
struct PeerIdentity {
  std::string subject;      // RFC 2253, e.g. "CN=alice,O=Example"
  std::string fingerprint;  // SHA-256 of the DER certificate, lower-case hex
};
// Empty when the client sent no certificate (mode optional).
PeerIdentity peerIdentity(SSL* ssl);

class ServerContext {
 public:
  // Loads and checks everything; null with *error ("file: problem") on failure.
  // previous_keys: the ticket keys of the context this one replaces (reload), kept.
  static std::shared_ptr<ServerContext> create(const ServerSettings& settings, std::string* error,
                                               std::shared_ptr<TicketKeys> previous_keys = nullptr);
  const std::shared_ptr<TicketKeys>& ticketKeys() const { return keys_; }
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // The context new connections start on (the default certificate group).
  SSL_CTX* defaultContext() const { return groups_.front().ctx; }
  bool selfSigned() const { return self_signed_; }
  const ClientCertificates& clientCertificates() const { return client_; }
  // Names served, per group, for logs.
  std::vector<std::string> describe() const;

 private:
  ServerContext() = default;
  struct Group {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lower case; "*.example.com" for wildcards
  };
  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onStatus(SSL* ssl, void* arg);
  std::vector<std::pair<X509*, std::string>> ocsp_;  // leaf -> DER response (leaves owned by the SSL_CTXs)
  const Group* pick(std::string_view host) const;

  std::vector<Group> groups_;
  static int onTicket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                      int encrypt);
  std::vector<std::string> alpn_;  // ALPN protocols, preferred first
  std::shared_ptr<TicketKeys> keys_;
  ClientCertificates client_;
  bool self_signed_ = false;
};

// Checks a private key file's permissions (no group/other access); false with *why.
bool keyPermissionsOk(const std::string& path, std::string* why);

}  // namespace rampart::tls
