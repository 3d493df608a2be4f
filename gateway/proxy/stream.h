// One side of a proxied exchange: a TCP socket, or TLS over it. The client
// connection of a TLS listener and the connections to a pool with `tls:` are
// TLS; everything else stays a plain socket with a direct call (one branch per
// operation). It has the members the proxy uses on a socket (async_read_some,
// async_write_some for asio::async_write, cancel, shutdown, close, endpoints,
// options), so the proxy code is the same for all four cases.
//
// Once TLS starts, the socket moves into a heap-allocated asio::ssl::stream
// together with its context: the Stream stays movable (idle upstream
// connections move in and out of the worker's cache) without the TLS state
// pointing at a socket that moved.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>

namespace rampart::gateway::proxy {

class Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  explicit Stream(tcp::socket s) : sock_(std::move(s)) {}

  executor_type get_executor() { return socket().get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->stream.next_layer() : sock_; }
  const tcp::socket& socket() const { return tls_ ? tls_->stream.next_layer() : sock_; }
  bool tls() const { return tls_ != nullptr; }

  // Switches to TLS with `ctx` (its reference count is taken); handshake next.
  void startTls(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);
    tls_ = std::make_unique<Tls>(std::move(sock_), ctx);
  }
  SSL* ssl() { return tls_ ? tls_->stream.native_handle() : nullptr; }
  template <typename Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    return tls_->stream.async_handshake(type, std::forward<Token>(token));
  }

  // TLS only: sends close_notify and waits for the peer's (or its close).
  template <typename Token>
  auto async_shutdown(Token&& token) {
    return tls_->stream.async_shutdown(std::forward<Token>(token));
  }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_read_some(buffers, std::forward<Token>(token));
    return sock_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->stream.async_write_some(buffers, std::forward<Token>(token));
    return sock_.async_write_some(buffers, std::forward<Token>(token));
  }

  void cancel(boost::system::error_code& ec) { socket().cancel(ec); }
  void close(boost::system::error_code& ec) { socket().close(ec); }
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) { socket().shutdown(what, ec); }
  template <typename Option>
  void set_option(const Option& o, boost::system::error_code& ec) {
    socket().set_option(o, ec);
  }
  tcp::endpoint remote_endpoint(boost::system::error_code& ec) const { return socket().remote_endpoint(ec); }
  tcp::endpoint local_endpoint(boost::system::error_code& ec) const { return socket().local_endpoint(ec); }

 private:
  struct Tls {
    Tls(tcp::socket s, SSL_CTX* ctx) : context(ctx), stream(std::move(s), context) {}
    boost::asio::ssl::context context;  // owns one reference to the SSL_CTX
    boost::asio::ssl::stream<tcp::socket> stream;
  };
  tcp::socket sock_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace rampart::gateway::proxy
