// tls::ServerContext through real TLS handshakes between OpenSSL client and
// server objects over a memory BIO pair. Certificates (a CA, an intermediate,
// RSA and ECDSA leaves, a client certificate) are made at test time with the
// OpenSSL API and written to a temporary directory.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/server_context.h"

namespace rampart::tls {
namespace {

namespace fs = std::filesystem;

EVP_PKEY* ecKey() { return EVP_EC_gen("P-256"); }
EVP_PKEY* rsaKey() { return EVP_RSA_gen(2048); }

// A certificate for `cn` with `sans` ("DNS:a,DNS:b"), signed by issuer (self-signed when null).
X509* makeCert(EVP_PKEY* key, const std::string& cn, const std::string& sans, X509* issuer, EVP_PKEY* issuer_key,
               bool ca) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Rampart Test"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer ? issuer : x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!sans.empty()) add(NID_subject_alt_name, sans.c_str());
  X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

void writeCerts(const fs::path& p, std::vector<X509*> certs) {
  FILE* f = std::fopen(p.c_str(), "w");
  for (X509* c : certs) PEM_write_X509(f, c);
  std::fclose(f);
}

void writeKey(const fs::path& p, EVP_PKEY* k, mode_t mode = 0600) {
  FILE* f = std::fopen(p.c_str(), "w");
  PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  ::chmod(p.c_str(), mode);
}

std::string subjectCn(X509* x) {
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  return cn;
}

// Test PKI, made once for the suite.
struct Pki {
  fs::path dir;
  EVP_PKEY *ca_key, *inter_key, *rsa_key, *ec_key, *other_key, *client_key;
  X509 *ca, *inter, *rsa, *ec, *other, *client;
  Pki() {
    dir = fs::temp_directory_path() / ("rampart-tls-unit-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    ca_key = ecKey();
    ca = makeCert(ca_key, "Test Root", "", nullptr, nullptr, true);
    inter_key = ecKey();
    inter = makeCert(inter_key, "Test Intermediate", "", ca, ca_key, true);
    rsa_key = rsaKey();
    rsa = makeCert(rsa_key, "example.com rsa", "DNS:example.com,DNS:www.example.com", inter, inter_key, false);
    ec_key = ecKey();
    ec = makeCert(ec_key, "example.com ecdsa", "DNS:example.com,DNS:www.example.com", inter, inter_key, false);
    other_key = ecKey();
    other = makeCert(other_key, "wildcard", "DNS:*.apps.test", inter, inter_key, false);
    client_key = ecKey();
    client = makeCert(client_key, "alice", "", ca, ca_key, false);
    writeCerts(dir / "ca.pem", {ca});
    writeCerts(dir / "rsa.pem", {rsa, inter});
    writeKey(dir / "rsa.key", rsa_key);
    writeCerts(dir / "ec.pem", {ec, inter});
    writeKey(dir / "ec.key", ec_key);
    writeCerts(dir / "other.pem", {other, inter});
    writeKey(dir / "other.key", other_key);
  }
  ~Pki() {
    for (X509* x : {ca, inter, rsa, ec, other, client}) X509_free(x);
    for (EVP_PKEY* k : {ca_key, inter_key, rsa_key, ec_key, other_key, client_key}) EVP_PKEY_free(k);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const char* name) const { return (dir / name).string(); }
};

Pki& pki() {
  static Pki p;
  return p;
}

ServerSettings defaultSettings() {
  ServerSettings s;
  s.certificates = {{pki().path("rsa.pem"), pki().path("rsa.key"), ""},
                    {pki().path("ec.pem"), pki().path("ec.key"), ""},
                    {pki().path("other.pem"), pki().path("other.key"), ""}};
  return s;
}

struct ClientOptions {
  std::string sni;
  int max_version = TLS1_3_VERSION;
  std::string sigalgs;             // empty: OpenSSL's default
  std::vector<std::string> alpn;   // offered protocols
  SSL_SESSION* session = nullptr;  // resume this
  bool with_client_cert = false;
};

// One handshake between a fresh client and `server_ctx`, over a BIO pair.
struct Handshake {
  SSL* client = nullptr;
  SSL* server = nullptr;
  SSL_CTX* client_ctx = nullptr;
  bool ok = false;
  ~Handshake() {
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(client_ctx);
  }
  std::string peerCn() const {
    X509* x = SSL_get0_peer_certificate(client);
    return x ? subjectCn(x) : "";
  }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(client, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // Moves application data both ways so the client reads the TLS 1.3 session tickets.
  void exchange() {
    char buf[16];
    ASSERT_EQ(SSL_write(server, "hi", 2), 2);
    ASSERT_EQ(SSL_read(client, buf, sizeof buf), 2);
  }
  SSL_SESSION* session() const { return SSL_get1_session(client); }
};

std::unique_ptr<Handshake> handshake(SSL_CTX* server_ctx, const ClientOptions& o) {
  auto h = std::make_unique<Handshake>();
  h->client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(h->client_ctx, TLS1_VERSION);
  SSL_CTX_set_security_level(h->client_ctx, 0);  // so the client may offer TLS 1.0/1.1
  SSL_CTX_set_max_proto_version(h->client_ctx, o.max_version);
  if (!o.sigalgs.empty()) EXPECT_EQ(SSL_CTX_set1_sigalgs_list(h->client_ctx, o.sigalgs.c_str()), 1);
  if (o.with_client_cert) {
    SSL_CTX_use_certificate(h->client_ctx, pki().client);
    SSL_CTX_use_PrivateKey(h->client_ctx, pki().client_key);
  }
  h->client = SSL_new(h->client_ctx);
  h->server = SSL_new(server_ctx);
  if (!o.sni.empty()) SSL_set_tlsext_host_name(h->client, o.sni.c_str());
  if (!o.alpn.empty()) {
    std::string wire;
    for (auto& p : o.alpn) wire += char(p.size()) + p;
    SSL_set_alpn_protos(h->client, reinterpret_cast<const unsigned char*>(wire.data()), unsigned(wire.size()));
  }
  if (o.session) SSL_set_session(h->client, o.session);
  BIO *a = nullptr, *b = nullptr;
  BIO_new_bio_pair(&a, 0, &b, 0);
  SSL_set_bio(h->client, a, a);
  SSL_set_bio(h->server, b, b);
  SSL_set_connect_state(h->client);
  SSL_set_accept_state(h->server);
  bool client_done = false, server_done = false;
  for (int i = 0; i < 20 && !(client_done && server_done); ++i) {
    if (!client_done) {
      int r = SSL_do_handshake(h->client);
      if (r == 1)
        client_done = true;
      else if (SSL_get_error(h->client, r) != SSL_ERROR_WANT_READ)
        break;
    }
    if (!server_done) {
      int r = SSL_do_handshake(h->server);
      if (r == 1)
        server_done = true;
      else if (SSL_get_error(h->server, r) != SSL_ERROR_WANT_READ)
        break;
    }
  }
  ERR_clear_error();
  h->ok = client_done && server_done;
  return h;
}

std::shared_ptr<ServerContext> make(const ServerSettings& s, std::shared_ptr<TicketKeys> keys = nullptr) {
  std::string err;
  auto sc = ServerContext::create(s, &err, std::move(keys));
  EXPECT_TRUE(sc) << err;
  return sc;
}

TEST(ServerContext, Tls13ByDefaultAndOlderVersionsRefused) {
  auto sc = make(defaultSettings());
  auto h = handshake(sc->defaultContext(), {});
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(SSL_version(h->client), TLS1_3_VERSION);
  for (int v : {TLS1_2_VERSION, TLS1_1_VERSION}) {
    ClientOptions o;
    o.max_version = v;
    EXPECT_FALSE(handshake(sc->defaultContext(), o)->ok) << v;
  }
  const uint64_t opts = SSL_CTX_get_options(sc->defaultContext());
  EXPECT_TRUE(opts & SSL_OP_NO_COMPRESSION);
  EXPECT_TRUE(opts & SSL_OP_NO_RENEGOTIATION);
  EXPECT_EQ(SSL_CTX_get_max_early_data(sc->defaultContext()), 0u);
}

TEST(ServerContext, Tls12OnlyWhenConfigured) {
  auto s = defaultSettings();
  s.min_version = "1.2";
  s.profile = "intermediate";
  auto sc = make(s);
  ClientOptions o;
  o.max_version = TLS1_2_VERSION;
  auto h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(SSL_version(h->client), TLS1_2_VERSION);
  std::string cipher = SSL_get_cipher_name(h->client);
  EXPECT_NE(cipher.find("ECDHE"), std::string::npos) << cipher;
  EXPECT_NE(cipher.find("GCM"), std::string::npos) << cipher;
  o.max_version = TLS1_1_VERSION;
  EXPECT_FALSE(handshake(sc->defaultContext(), o)->ok);
}

TEST(ServerContext, SniExactWildcardAndDefault) {
  auto sc = make(defaultSettings());
  ClientOptions o;
  o.sigalgs = "ECDSA+SHA256";
  o.sni = "www.example.com";
  auto h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "example.com ecdsa");
  o.sni = "Foo.Apps.Test";  // wildcard, case-insensitive
  h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "wildcard");
  o.sni = "a.b.apps.test";  // a wildcard covers one label only: the default
  h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "example.com ecdsa");
  o.sni.clear();  // no SNI: the default group (the first certificate's names)
  h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "example.com ecdsa");
}

TEST(ServerContext, KeyTypeByClientSignatureAlgorithms) {
  auto sc = make(defaultSettings());
  ClientOptions o;
  o.sni = "example.com";
  o.sigalgs = "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384";
  auto h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "example.com rsa");
  o.sigalgs = "ECDSA+SHA256";
  h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "example.com ecdsa");
}

TEST(ServerContext, FullChainSent) {
  auto sc = make(defaultSettings());
  auto h = handshake(sc->defaultContext(), {});
  ASSERT_TRUE(h->ok);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(h->client);
  ASSERT_NE(chain, nullptr);
  ASSERT_EQ(sk_X509_num(chain), 2);
  EXPECT_EQ(subjectCn(sk_X509_value(chain, 1)), "Test Intermediate");
}

TEST(ServerContext, AlpnHttp11) {
  auto sc = make(defaultSettings());
  ClientOptions o;
  o.alpn = {"h2", "http/1.1"};
  auto h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->alpn(), "http/1.1");
  o.alpn = {"h2"};  // nothing in common: no ALPN, the handshake goes on
  h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->alpn(), "");
}

TEST(ServerContext, TicketResumesAcrossContextsSharingKeys) {
  auto s = defaultSettings();
  auto first = make(s);
  auto h = handshake(first->defaultContext(), {});
  ASSERT_TRUE(h->ok);
  h->exchange();
  SSL_SESSION* sess = h->session();
  ASSERT_TRUE(SSL_SESSION_is_resumable(sess));
  // A reload: a new context built with the previous ticket keys resumes the session.
  auto reloaded = make(s, first->ticketKeys());
  ClientOptions o;
  o.session = sess;
  auto r = handshake(reloaded->defaultContext(), o);
  ASSERT_TRUE(r->ok);
  EXPECT_TRUE(SSL_session_reused(r->client));
  // A context with keys of its own (another instance) does not.
  auto stranger = make(s);
  auto f = handshake(stranger->defaultContext(), o);
  ASSERT_TRUE(f->ok);
  EXPECT_FALSE(SSL_session_reused(f->client));
  SSL_SESSION_free(sess);
}

TEST(ServerContext, TicketUnderRotatedKeyStillResumes) {
  auto s = defaultSettings();
  s.ticket_key_rotation_seconds = 0;  // a new key for every ticket issued
  auto sc = make(s);
  auto h = handshake(sc->defaultContext(), {});
  ASSERT_TRUE(h->ok);
  h->exchange();
  SSL_SESSION* sess = h->session();
  size_t before = sc->ticketKeys()->rotations();
  auto other = handshake(sc->defaultContext(), {});  // issues under a newer key
  ASSERT_TRUE(other->ok);
  other->exchange();
  EXPECT_GT(sc->ticketKeys()->rotations(), before);
  ClientOptions o;
  o.session = sess;
  auto r = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(r->ok);
  EXPECT_TRUE(SSL_session_reused(r->client));
  SSL_SESSION_free(sess);
}

TEST(TicketKeys, OldKeyAcceptedWithRenewalUntilItsLifetimeEnds) {
  TicketKeys keys(0, 3600);
  TicketKeys::Key a = keys.current();
  TicketKeys::Key b = keys.current();
  ASSERT_NE(std::memcmp(a.name, b.name, sizeof a.name), 0);
  TicketKeys::Key found;
  bool renew = false;
  ASSERT_TRUE(keys.find(a.name, &found, &renew));
  EXPECT_TRUE(renew);
  EXPECT_EQ(std::memcmp(found.aes, a.aes, sizeof a.aes), 0);
  unsigned char unknown[16] = {};
  EXPECT_FALSE(keys.find(unknown, &found, &renew));
  TicketKeys steady(3600, 3600);
  TicketKeys::Key c = steady.current();
  EXPECT_EQ(std::memcmp(steady.current().name, c.name, sizeof c.name), 0);  // not due: same key
  ASSERT_TRUE(steady.find(c.name, &found, &renew));
  EXPECT_FALSE(renew);
}

TEST(ServerContext, KeyPermissions) {
  auto& p = pki();
  writeKey(p.dir / "open.key", p.ec_key, 0644);
  ServerSettings s;
  s.certificates = {{p.path("ec.pem"), p.path("open.key"), ""}};
  std::string err;
  EXPECT_FALSE(ServerContext::create(s, &err));
  EXPECT_NE(err.find("open.key"), std::string::npos) << err;
  EXPECT_NE(err.find("group or others"), std::string::npos) << err;
  s.allow_insecure_key_permissions = true;
  EXPECT_TRUE(ServerContext::create(s, &err)) << err;
  std::string why;
  EXPECT_TRUE(keyPermissionsOk(p.path("ec.key"), &why)) << why;
  EXPECT_FALSE(keyPermissionsOk(p.path("missing.key"), &why));
}

TEST(ServerContext, ErrorsNameTheFile) {
  auto& p = pki();
  ServerSettings s;
  s.certificates = {{p.path("ec.pem"), p.path("rsa.key"), ""}};
  std::string err;
  EXPECT_FALSE(ServerContext::create(s, &err));
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  s.certificates = {{p.path("missing.pem"), p.path("ec.key"), ""}};
  EXPECT_FALSE(ServerContext::create(s, &err));
  EXPECT_NE(err.find("missing.pem"), std::string::npos) << err;
  s.certificates = {{p.path("ec.key"), p.path("ec.key"), ""}};  // a key where the certificate should be
  EXPECT_FALSE(ServerContext::create(s, &err));
  EXPECT_NE(err.find("no PEM certificate"), std::string::npos) << err;
  s.certificates = {{p.path("ec.pem"), p.path("ec.key"), ""}, {p.path("ec.pem"), p.path("ec.key"), ""}};
  EXPECT_FALSE(ServerContext::create(s, &err));
  EXPECT_NE(err.find("same key type"), std::string::npos) << err;
}

TEST(ServerContext, SelfSignedWhenNoCertificate) {
  auto sc = make(ServerSettings{});
  EXPECT_TRUE(sc->selfSigned());
  ClientOptions o;
  o.sni = "localhost";
  auto h = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(h->ok);
  EXPECT_EQ(h->peerCn(), "localhost");
  EXPECT_EQ(SSL_version(h->client), TLS1_3_VERSION);
}

TEST(ServerContext, ClientCertificates) {
  auto s = defaultSettings();
  s.client.mode = ClientCertificates::Mode::Required;
  s.client.ca_file = pki().path("ca.pem");
  auto sc = make(s);
  // TLS 1.3: the server's verdict on the client certificate arrives after the client's handshake ends.
  auto without = handshake(sc->defaultContext(), {});
  EXPECT_FALSE(without->ok);
  ClientOptions o;
  o.with_client_cert = true;
  auto with = handshake(sc->defaultContext(), o);
  ASSERT_TRUE(with->ok);
  PeerIdentity id = peerIdentity(with->server);
  EXPECT_EQ(id.subject, "CN=alice,O=Rampart Test");
  unsigned char md[32];
  unsigned int n = 0;
  X509_digest(pki().client, EVP_sha256(), md, &n);
  ASSERT_EQ(id.fingerprint.size(), 64u);
  char first[3];
  std::snprintf(first, sizeof first, "%02x", md[0]);
  EXPECT_EQ(id.fingerprint.substr(0, 2), first);

  s.client.mode = ClientCertificates::Mode::Optional;
  auto opt = make(s);
  auto anon = handshake(opt->defaultContext(), {});
  ASSERT_TRUE(anon->ok);
  EXPECT_TRUE(peerIdentity(anon->server).subject.empty());
}

}  // namespace
}  // namespace rampart::tls
