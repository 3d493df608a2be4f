#include "tls/client_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

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

bool isIpLiteral(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

bool readable(const std::string& path, std::string* error) {
  std::ifstream f(path);
  if (f) return true;
  *error = fmt::format("{}: cannot read: {}", path, std::strerror(errno));
  return false;
}

int contextIndex() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int sslNameIndex() {
  // The verified name a connection was prepared for (a heap string, freed with the SSL).
  static int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* p, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(p);
      });
  return index;
}

}  // namespace

std::shared_ptr<ClientContext> ClientContext::create(const ClientSettings& s, std::string* error) {
  std::shared_ptr<ClientContext> cc(new ClientContext());
  cc->settings_ = s;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *error = "SSL_CTX_new: " + sslError();
    return nullptr;
  }
  cc->ctx_ = ctx;  // freed by the destructor from here
  SSL_CTX_set_min_proto_version(ctx, s.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (s.verify) {
    if (!s.ca_file.empty()) {
      if (!readable(s.ca_file, error)) return nullptr;
      if (SSL_CTX_load_verify_locations(ctx, s.ca_file.c_str(), nullptr) != 1) {
        *error = fmt::format("{}: cannot load the CA bundle: {}", s.ca_file, sslError());
        return nullptr;
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      *error = "cannot load the system trust store: " + sslError();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  const auto& cp = s.client_certificate;
  if (!cp.cert_file.empty()) {
    std::string why;
    if (!s.allow_insecure_key_permissions && !keyPermissionsOk(cp.key_file, &why)) {
      *error = fmt::format("{}: {}", cp.key_file, why);
      return nullptr;
    }
    if (!readable(cp.cert_file, error) || !readable(cp.key_file, error)) return nullptr;
    if (SSL_CTX_use_certificate_chain_file(ctx, cp.cert_file.c_str()) != 1) {
      *error = fmt::format("{}: no PEM certificate: {}", cp.cert_file, sslError());
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cp.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      *error = fmt::format("{}: no PEM private key (encrypted keys are not supported): {}", cp.key_file, sslError());
      return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      *error = fmt::format("{}: the key does not match the certificate {}", cp.key_file, cp.cert_file);
      return nullptr;
    }
  }
  // Client-side session caching is ours (sessions_): OpenSSL only calls back.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  SSL_CTX_set_ex_data(ctx, contextIndex(), cc.get());
  return cc;
}

ClientContext::~ClientContext() {
  if (ctx_) SSL_CTX_set_ex_data(ctx_, contextIndex(), nullptr);  // idle connections may hold ctx_ a while longer
  for (auto& [name, sess] : sessions_) SSL_SESSION_free(sess);
  SSL_CTX_free(ctx_);
}

std::string ClientContext::verifiedName(std::string_view endpoint_host) const {
  return settings_.server_name.empty() ? std::string(endpoint_host) : settings_.server_name;
}

bool ClientContext::prepare(SSL* ssl, std::string_view endpoint_host) const {
  std::string name = verifiedName(endpoint_host);
  const bool ip = isIpLiteral(name);
  if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return false;
  if (settings_.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (ip) {
      if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) return false;
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl, name.c_str()) != 1) return false;
    }
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = sessions_.find(name);
    if (it != sessions_.end()) SSL_set_session(ssl, it->second);
  }
  SSL_set_ex_data(ssl, sslNameIndex(), new std::string(std::move(name)));
  return true;
}

int ClientContext::onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<ClientContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), contextIndex()));
  auto* name = static_cast<std::string*>(SSL_get_ex_data(ssl, sslNameIndex()));
  if (!self || !name) return 0;
  // A copy: OpenSSL marks the connection's own session not resumable when that
  // connection ends without a close_notify (as backends often do), which would
  // spoil the stored one.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (!copy) return 0;
  std::lock_guard<std::mutex> g(self->mu_);
  auto [it, added] = self->sessions_.try_emplace(*name, copy);
  if (!added) {
    SSL_SESSION_free(it->second);
    it->second = copy;
  }
  return 0;  // OpenSSL keeps (and frees) its own reference
}

std::string ClientContext::verifyError(SSL* ssl) {
  long r = SSL_get_verify_result(ssl);
  if (r == X509_V_OK) return "";
  return X509_verify_cert_error_string(r);
}

}  // namespace rampart::tls
