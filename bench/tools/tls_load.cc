// A TLS handshake load client for bench/tls_handshake.sh: `threads` threads
// each open connections one after another for `seconds`: TCP connect, TLS 1.3
// handshake (full, or resuming the last session the server issued), one
// HTTP/1.1 GET with Connection: close read to the end (so session tickets are
// received, as a browser would), close. Prints the handshakes completed, how
// many resumed, and errors. Certificates are not verified (the server's cost is
// what is measured; the client's verification would only slow the client).
//
//   tls_load HOST PORT SECONDS THREADS new|resume
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Totals {
  std::atomic<uint64_t> done{0}, resumed{0}, errors{0};
};

int connectTo(const sockaddr_in& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void run(SSL_CTX* ctx, sockaddr_in addr, std::chrono::steady_clock::time_point until, bool resume, Totals& t) {
  SSL_SESSION* session = nullptr;
  static const char kRequest[] = "GET / HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n";
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    int fd = connectTo(addr);
    if (fd < 0) {
      ++t.errors;
      continue;
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "bench.test");
    if (resume && session) SSL_set_session(ssl, session);
    bool ok = SSL_connect(ssl) == 1 && SSL_write(ssl, kRequest, sizeof kRequest - 1) > 0;
    if (ok) {
      while (SSL_read(ssl, buf, sizeof buf) > 0) {
      }
      ++t.done;
      if (SSL_session_reused(ssl)) ++t.resumed;
      if (resume) {
        if (SSL_SESSION* s = SSL_get1_session(ssl)) {
          if (session) SSL_SESSION_free(session);
          session = s;
        }
      }
    } else {
      ++t.errors;
      ERR_clear_error();
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    ::close(fd);
  }
  if (session) SSL_SESSION_free(session);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: tls_load HOST PORT SECONDS THREADS new|resume\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
    std::fprintf(stderr, "tls_load: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  const int seconds = std::atoi(argv[3]), threads = std::atoi(argv[4]);
  const bool resume = std::strcmp(argv[5], "resume") == 0;
  if (seconds <= 0 || seconds > 600 || threads <= 0 || threads > 64) {
    std::fprintf(stderr, "tls_load: SECONDS 1..600, THREADS 1..64\n");
    return 2;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  Totals t;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::seconds(seconds);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(run, ctx, addr, until, resume, std::ref(t));
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("handshakes %llu resumed %llu errors %llu seconds %.3f\n", (unsigned long long)t.done.load(),
              (unsigned long long)t.resumed.load(), (unsigned long long)t.errors.load(), elapsed);
  SSL_CTX_free(ctx);
  return 0;
}
