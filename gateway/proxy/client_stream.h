// The client side of a connection: a TCP socket, or TLS over it once the
// listener terminates TLS. Plain listeners keep a direct socket call (one
// branch per operation); the TLS path goes through asio::ssl::stream. It has
// the members the proxy uses on a socket (async_read_some, async_write_some
// for asio::async_write, cancel, shutdown, close, endpoints, options), so the
// proxy code is the same for both.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>

namespace rampart::gateway::proxy {

class ClientStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  explicit ClientStream(tcp::socket s) : sock_(std::move(s)) {}

  executor_type get_executor() { return sock_.get_executor(); }
  tcp::socket& socket() { return sock_; }
  bool tls() const { return ssl_ != nullptr; }

  // Switches to TLS with `ctx` (its reference count is taken); run handshake() next.
  void startTls(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);
    ctx_ = std::make_unique<boost::asio::ssl::context>(ctx);
    ssl_ = std::make_unique<boost::asio::ssl::stream<tcp::socket&>>(sock_, *ctx_);
  }
  boost::asio::ssl::stream<tcp::socket&>& tlsStream() { return *ssl_; }
  SSL* ssl() { return ssl_ ? ssl_->native_handle() : nullptr; }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (ssl_) return ssl_->async_read_some(buffers, std::forward<Token>(token));
    return sock_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (ssl_) return ssl_->async_write_some(buffers, std::forward<Token>(token));
    return sock_.async_write_some(buffers, std::forward<Token>(token));
  }

  void cancel(boost::system::error_code& ec) { sock_.cancel(ec); }
  void close(boost::system::error_code& ec) { sock_.close(ec); }
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) { sock_.shutdown(what, ec); }
  template <typename Option>
  void set_option(const Option& o, boost::system::error_code& ec) {
    sock_.set_option(o, ec);
  }
  tcp::endpoint remote_endpoint(boost::system::error_code& ec) const { return sock_.remote_endpoint(ec); }
  tcp::endpoint local_endpoint(boost::system::error_code& ec) const { return sock_.local_endpoint(ec); }

 private:
  tcp::socket sock_;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket&>> ssl_;
};

}  // namespace rampart::gateway::proxy
