#include "tls/server_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace rampart::tls {

namespace {

std::string sslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Loaded {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;
  EVP_PKEY* key = nullptr;
  std::vector<std::string> names;
  ~Loaded() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

std::vector<std::string> namesOf(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const unsigned char* d = ASN1_STRING_get0_data(gn->d.dNSName);
      names.push_back(lower(std::string(reinterpret_cast<const char*>(d), size_t(ASN1_STRING_length(gn->d.dNSName)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      names.push_back(lower(cn));
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool loadPair(const CertificatePair& p, bool allow_insecure, Loaded& out, std::string* error) {
  std::string why;
  if (!allow_insecure && !keyPermissionsOk(p.key_file, &why)) {
    *error = fmt::format("{}: {}", p.key_file, why);
    return false;
  }
  BIO* b = BIO_new_file(p.cert_file.c_str(), "r");
  if (!b) {
    *error = fmt::format("{}: cannot read: {}", p.cert_file, std::strerror(errno));
    return false;
  }
  out.leaf = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  if (!out.leaf) {
    BIO_free(b);
    *error = fmt::format("{}: no PEM certificate: {}", p.cert_file, sslError());
    return false;
  }
  out.chain = sk_X509_new_null();
  while (X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) sk_X509_push(out.chain, c);
  ERR_clear_error();  // the end of the file reads as an error
  BIO_free(b);
  b = BIO_new_file(p.key_file.c_str(), "r");
  if (!b) {
    *error = fmt::format("{}: cannot read: {}", p.key_file, std::strerror(errno));
    return false;
  }
  out.key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!out.key) {
    *error = fmt::format("{}: no PEM private key (encrypted keys are not supported): {}", p.key_file, sslError());
    return false;
  }
  if (X509_check_private_key(out.leaf, out.key) != 1) {
    ERR_clear_error();
    *error = fmt::format("{}: the key does not match the certificate {}", p.key_file, p.cert_file);
    return false;
  }
  out.names = namesOf(out.leaf);
  return true;
}

// A self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 (dev convenience).
bool makeSelfSigned(Loaded& out, std::string* error) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!key || !x) {
    *error = "cannot generate a key: " + sslError();
    EVP_PKEY_free(key);
    X509_free(x);
    return false;
  }
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), long(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  if (X509_EXTENSION* ext =
          X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")) {
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, key, EVP_sha256())) {
    *error = "cannot sign the self-signed certificate: " + sslError();
    EVP_PKEY_free(key);
    X509_free(x);
    return false;
  }
  out.leaf = x;
  out.key = key;
  out.chain = sk_X509_new_null();
  out.names = {"localhost"};
  return true;
}

int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void* arg) {
  // Our protocols in order of preference; the first the client also offers wins.
  const auto* ours = static_cast<const std::vector<std::string>*>(arg);
  for (const auto& p : *ours) {
    for (unsigned int i = 0; i < inlen;) {
      unsigned int n = in[i];
      if (i + 1 + n > inlen) break;
      if (n == p.size() && std::memcmp(in + i + 1, p.data(), n) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN (HTTP/1.1)
}

SSL_CTX* newContext(const ServerSettings& s, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    *error = "SSL_CTX_new: " + sslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, s.min_version == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_max_early_data(ctx, 0);
  const std::string suites =
      s.ciphersuites.empty() ? "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256" : s.ciphersuites;
  const std::string ciphers = s.ciphers.empty()
                                  ? "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
                                  : s.ciphers;
  const std::string groups = s.groups.empty() ? "X25519:P-256:P-384" : s.groups;
  std::string bad;
  if (SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) bad = "ciphersuites: '" + suites + "'";
  else if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) bad = "ciphers: '" + ciphers + "'";
  else if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) bad = "groups: '" + groups + "'";
  if (!bad.empty()) {
    ERR_clear_error();
    *error = fmt::format("tls.{} is not a list OpenSSL accepts", bad);
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, s.session_cache_size);
  SSL_CTX_set_timeout(ctx, s.session_timeout_seconds);
  static const unsigned char kSid[] = "rampart";
  SSL_CTX_set_session_id_context(ctx, kSid, sizeof kSid - 1);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  const auto& cc = s.client;
  if (cc.mode != ClientCertificates::Mode::None) {
    if (SSL_CTX_load_verify_locations(ctx, cc.ca_file.c_str(), nullptr) != 1) {
      *error = fmt::format("{}: cannot load the client CA bundle: {}", cc.ca_file, sslError());
      SSL_CTX_free(ctx);
      return nullptr;
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cc.ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx, names);  // the CAs the server asks for
    int mode = SSL_VERIFY_PEER;
    if (cc.mode == ClientCertificates::Mode::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    SSL_CTX_set_verify_depth(ctx, cc.verify_depth);
  }
  return ctx;
}

bool addPair(SSL_CTX* ctx, const Loaded& p, const std::string& what, std::string* error) {
  if (SSL_CTX_use_certificate(ctx, p.leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, p.key) != 1) {
    *error = fmt::format("{}: {}", what, sslError());
    return false;
  }
  for (int i = 0; i < sk_X509_num(p.chain); ++i)
    if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(p.chain, i)) != 1) {
      *error = fmt::format("{}: chain: {}", what, sslError());
      return false;
    }
  return true;
}

int64_t nowSeconds() { return int64_t(time(nullptr)); }

}  // namespace

// The SSL_CTX ex_data slot that points back to its ServerContext.
static int ticketIndex() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void TicketKeys::rotateLocked(int64_t now) {
  Key k;
  RAND_bytes(k.name, sizeof k.name);
  RAND_bytes(k.aes, sizeof k.aes);
  RAND_bytes(k.hmac, sizeof k.hmac);
  k.created = now;
  keys_.push_back(k);
  ++rotations_;
  // Keys older than rotation + lifetime can no longer have issued a live ticket.
  while (keys_.size() > 1 && keys_.front().created + int64_t(rotation_) + int64_t(lifetime_) < now)
    keys_.erase(keys_.begin());
}

TicketKeys::Key TicketKeys::current() {
  std::lock_guard<std::mutex> g(mu_);
  int64_t now = nowSeconds();
  if (keys_.empty() || keys_.back().created + int64_t(rotation_) <= now) rotateLocked(now);
  return keys_.back();
}

bool TicketKeys::find(const unsigned char* name, Key* out, bool* renew) {
  std::lock_guard<std::mutex> g(mu_);
  int64_t now = nowSeconds();
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (std::memcmp(keys_[i].name, name, sizeof keys_[i].name) != 0) continue;
    // A key stops issuing at its successor's creation; its tickets live `lifetime_` longer.
    int64_t retired = i + 1 < keys_.size() ? keys_[i + 1].created : now;
    if (retired + int64_t(lifetime_) < now) return false;
    *out = keys_[i];
    *renew = i + 1 < keys_.size() || keys_[i].created + int64_t(rotation_) <= now;
    return true;
  }
  return false;
}

void TicketKeys::setSchedule(uint32_t rotation_seconds, uint32_t lifetime_seconds) {
  std::lock_guard<std::mutex> g(mu_);
  rotation_ = rotation_seconds;
  lifetime_ = lifetime_seconds;
}

int ServerContext::onTicket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                            EVP_MAC_CTX* mac, int encrypt) {
  auto* self = static_cast<ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticketIndex()));
  if (!self || !self->keys_) return -1;
  TicketKeys::Key k;
  bool renew = false;
  if (encrypt) {
    k = self->keys_->current();
    std::memcpy(name, k.name, sizeof k.name);
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
  } else if (!self->keys_->find(name, &k, &renew)) {
    return 0;  // unknown or expired key: a full handshake
  }
  // Fetched once: EVP_aes_256_cbc() fetches from the provider store on every call
  // (a lock and a name lookup per ticket).
  static EVP_CIPHER* const aes = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  if (!aes || EVP_CipherInit_ex(cipher, aes, nullptr, k.aes, iv, encrypt) != 1) return -1;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string("key", k.hmac, sizeof k.hmac),
                         OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("sha256"), 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  // TLS 1.3: a fresh ticket after every resumption (RFC 8446 8.1 prefers
  // single-use tickets; OpenSSL sends none after a resumption unless told to
  // renew, and OpenSSL clients then fall back to a full handshake next time).
  return (renew || SSL_version(ssl) == TLS1_3_VERSION) ? 2 : 1;
}

bool keyPermissionsOk(const std::string& path, std::string* why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *why = fmt::format("cannot read: {}", std::strerror(errno));
    return false;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    *why = fmt::format("the private key is accessible by group or others (mode {:o}); chmod 600 it, or set "
                       "allow_insecure_key_permissions: true",
                       st.st_mode & 0777);
    return false;
  }
  return true;
}

PeerIdentity peerIdentity(SSL* ssl) {
  PeerIdentity id;
  if (!ssl) return id;
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (!peer) return id;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    BIO* b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    id.subject.assign(data, size_t(n));
    BIO_free(b);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(peer, EVP_sha256(), md, &len) == 1) {
      static const char* kHex = "0123456789abcdef";
      for (unsigned int i = 0; i < len; ++i) {
        id.fingerprint += kHex[md[i] >> 4];
        id.fingerprint += kHex[md[i] & 15];
      }
    }
  }
  X509_free(peer);
  return id;
}

std::shared_ptr<ServerContext> ServerContext::create(const ServerSettings& settings, std::string* error,
                                                     std::shared_ptr<TicketKeys> previous_keys) {
  std::shared_ptr<ServerContext> sc(new ServerContext());
  sc->keys_ = previous_keys ? std::move(previous_keys)
                            : std::make_shared<TicketKeys>(settings.ticket_key_rotation_seconds,
                                                           settings.session_timeout_seconds);
  sc->keys_->setSchedule(settings.ticket_key_rotation_seconds, settings.session_timeout_seconds);
  sc->alpn_ = settings.alpn;
  sc->client_ = settings.client;
  std::vector<std::unique_ptr<Loaded>> pairs;
  std::vector<std::string> what;
  if (settings.certificates.empty()) {
    auto l = std::make_unique<Loaded>();
    if (!makeSelfSigned(*l, error)) return nullptr;
    pairs.push_back(std::move(l));
    what.push_back("self-signed certificate");
    sc->self_signed_ = true;
  }
  for (const auto& p : settings.certificates) {
    auto l = std::make_unique<Loaded>();
    if (!loadPair(p, settings.allow_insecure_key_permissions, *l, error)) return nullptr;
    pairs.push_back(std::move(l));
    what.push_back(p.cert_file);
  }
  // Group by the names served, in configuration order (the first group is the default).
  std::vector<std::pair<std::vector<std::string>, std::vector<size_t>>> groups;
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.first == pairs[i]->names; });
    if (it == groups.end()) groups.push_back({pairs[i]->names, {i}});
    else it->second.push_back(i);
  }
  for (auto& [names, members] : groups) {
    Group g;
    g.names = names;
    g.ctx = newContext(settings, error);
    if (!g.ctx) return nullptr;
    sc->groups_.push_back(g);  // owned from here (freed by the destructor on failure)
    std::map<int, size_t> by_type;
    for (size_t i : members) {
      int type = EVP_PKEY_get_base_id(pairs[i]->key);
      if (by_type.count(type)) {
        *error = fmt::format("{} and {} serve the same names with the same key type", what[by_type[type]], what[i]);
        return nullptr;
      }
      by_type[type] = i;
      if (!addPair(g.ctx, *pairs[i], what[i], error)) return nullptr;
      if (!sc->self_signed_ && !settings.certificates[i].ocsp_file.empty()) {  // pairs[i] is certificates[i]
        const std::string& f = settings.certificates[i].ocsp_file;
        std::string der;
        if (FILE* fp = std::fopen(f.c_str(), "rb")) {
          char buf[4096];
          size_t n;
          while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0) der.append(buf, n);
          std::fclose(fp);
        } else {
          *error = fmt::format("{}: cannot read: {}", f, std::strerror(errno));
          return nullptr;
        }
        const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
        OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, long(der.size()));
        if (!resp) {
          ERR_clear_error();
          *error = fmt::format("{}: not a DER OCSP response", f);
          return nullptr;
        }
        OCSP_RESPONSE_free(resp);
        sc->ocsp_.emplace_back(pairs[i]->leaf, std::move(der));
        X509_up_ref(pairs[i]->leaf);
      }
    }
    SSL_CTX_set_alpn_select_cb(g.ctx, selectAlpn, &sc->alpn_);
    SSL_CTX_set_tlsext_servername_callback(g.ctx, onServerName);
    SSL_CTX_set_tlsext_status_cb(g.ctx, onStatus);
    SSL_CTX_set_tlsext_status_arg(g.ctx, sc.get());
    SSL_CTX_set_ex_data(g.ctx, ticketIndex(), sc.get());
    SSL_CTX_set_tlsext_ticket_key_evp_cb(g.ctx, onTicket);
    SSL_CTX_set_tlsext_servername_arg(g.ctx, sc.get());
  }
  return sc;
}

ServerContext::~ServerContext() {
  for (auto& g : groups_) SSL_CTX_free(g.ctx);
  for (auto& [leaf, der] : ocsp_) X509_free(leaf);
}

// OCSP stapling: the configured response of the certificate this handshake uses.
int ServerContext::onStatus(SSL* ssl, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  X509* cert = SSL_get_certificate(ssl);
  for (const auto& [leaf, der] : self->ocsp_) {
    if (X509_cmp(leaf, cert) != 0) continue;
    auto* buf = static_cast<unsigned char*>(OPENSSL_malloc(der.size()));
    if (!buf) return SSL_TLSEXT_ERR_NOACK;
    std::memcpy(buf, der.data(), der.size());
    SSL_set_tlsext_status_ocsp_resp(ssl, buf, long(der.size()));  // OpenSSL frees it
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

const ServerContext::Group* ServerContext::pick(std::string_view host) const {
  std::string h = lower(std::string(host));
  for (const auto& g : groups_)
    for (const auto& n : g.names)
      if (n == h) return &g;
  auto dot = h.find('.');
  if (dot != std::string::npos) {
    std::string wild = "*" + h.substr(dot);
    for (const auto& g : groups_)
      for (const auto& n : g.names)
        if (n == wild) return &g;
  }
  return nullptr;
}

int ServerContext::onServerName(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!host) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  const Group* g = self->pick(host);
  if (g && g->ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, g->ctx);
  return SSL_TLSEXT_ERR_OK;
}

std::vector<std::string> ServerContext::describe() const {
  std::vector<std::string> out;
  for (const auto& g : groups_) {
    std::string s;
    for (const auto& n : g.names) s += (s.empty() ? "" : ",") + n;
    out.push_back(s);
  }
  return out;
}

}  // namespace rampart::tls
