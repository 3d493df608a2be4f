// Active HTTP health checks.
//
// Why a thread of its own: checks connect, wait and time out on their own
// schedule; keeping them off the workers means a slow or black-holed backend
// can never delay a client request. One io_context, one coroutine per checked
// endpoint: connect, send "GET <path> HTTP/1.1" with Host and
// Connection: close, read the status line, compare it with the expected
// ranges; the next check follows after interval (+ up to 10% jitter). The whole exchange is bounded by health.active.timeout (a timer that
// closes the socket). An endpoint flips to unhealthy after unhealthy_threshold
// consecutive failures and back after healthy_threshold consecutive passes;
// endpoints start healthy (docs/config.md).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "gateway/core/thread_name.h"
#include "gateway/upstream/pool.h"

namespace rampart::gateway::upstream {

namespace asio = boost::asio;
using asio::ip::tcp;

int parseStatusLine(std::string_view d) {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
  // (a missing SP before an empty reason is tolerated: some servers omit it).
  static constexpr std::string_view kPrefix = "HTTP/";
  const size_t pre = std::min(d.size(), kPrefix.size());
  if (d.substr(0, pre) != kPrefix.substr(0, pre)) return -1;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  // Validate what is there so far, then require the CRLF.
  size_t i = kPrefix.size();
  const char shape[] = "d.d ddd";  // after "HTTP/"
  for (size_t k = 0; k < sizeof(shape) - 1; ++k, ++i) {
    if (i >= d.size()) return 0;
    const char c = d[i];
    if (shape[k] == 'd' ? !digit(c) : c != shape[k]) return -1;
  }
  if (d[5] != '1') return -1;  // HTTP/1.x only
  const int status = (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
  if (status < 100) return -1;
  if (i >= d.size()) return 0;
  if (d[i] == ' ') {
    ++i;
    for (; i < d.size() && d[i] != '\r'; ++i) {
      const unsigned char c = static_cast<unsigned char>(d[i]);
      if (c != '\t' && (c < 0x20 || c == 0x7f)) return -1;  // HTAB / SP / VCHAR / obs-text
      if (i > 1024) return -1;
    }
  }
  if (i >= d.size()) return 0;
  if (d[i] != '\r') return -1;
  if (i + 1 >= d.size()) return 0;
  return d[i + 1] == '\n' ? status : -1;
}

struct HealthChecker::Impl {
  asio::io_context io;
  std::thread thread;
  std::vector<std::shared_ptr<Pool>> pools;
  std::function<void(const Pool&, const Endpoint&, bool)> on_change;
  // Applies one check result with the thresholds (Endpoint internals: HealthChecker is a friend).
  void record(const Pool& pool, Endpoint& ep, bool pass);
};

namespace {

struct CheckState {
  explicit CheckState(asio::any_io_executor ex) : socket(ex), deadline(ex) {}
  tcp::socket socket;
  asio::steady_timer deadline;
};

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

uint64_t jitterRandom() {  // checker thread only
  thread_local uint64_t x = static_cast<uint64_t>(Clock::now().time_since_epoch().count()) | 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

// Sends the check request on a connected stream and reads the status line.
template <typename Stream>
asio::awaitable<bool> exchange(Stream& stream, const ActiveHealthConfig& a, const Endpoint& ep) {
  std::string req;
  req.reserve(128);
  req += "GET ";
  req += a.path;
  req += " HTTP/1.1\r\nHost: ";
  req += a.host.empty() ? ep.config().address : a.host;
  req += "\r\nConnection: close\r\nUser-Agent: rampart-health-check\r\nAccept: */*\r\n\r\n";
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(req), kTuple);
  if (wec) co_return false;
  bool ok = false;
  std::string got;
  char buf[1024];
  for (;;) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
    got.append(buf, n);
    const int status = parseStatusLine(got);
    if (status > 0) {
      for (auto [lo, hi] : a.expected_statuses) ok = ok || (status >= lo && status <= hi);
      break;
    }
    if (status < 0 || rec || got.size() > 2048) break;
  }
  co_return ok;
}

// One check: true when the endpoint answered with an expected status in time.
asio::awaitable<bool> checkOnce(const Pool& pool, const Endpoint& ep) {
  const ActiveHealthConfig& a = pool.config().active;
  auto st = std::make_shared<CheckState>(co_await asio::this_coro::executor);
  st->deadline.expires_after(a.timeout);
  // The handler owns `st`, so it may fire after this frame is gone.
  st->deadline.async_wait([st](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      st->socket.close(ignored);  // aborts the pending connect/write/read
    }
  });
  bool ok = false;
  {
    auto [ec] = co_await st->socket.async_connect(ep.address(), kTuple);
    if (!ec) {
      if (const auto& tls = pool.tls()) {
        // The same TLS as requests (verification included): a backend whose
        // certificate fails is unhealthy.
        SSL_CTX_up_ref(tls->context());
        asio::ssl::context ctx(tls->context());
        asio::ssl::stream<tcp::socket&> s(st->socket, ctx);
        if (tls->prepare(s.native_handle(), ep.config().host)) {
          auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, kTuple);
          if (!hec) ok = co_await exchange(s, a, ep);
        }
      } else {
        ok = co_await exchange(st->socket, a, ep);
      }
    }
  }
  st->deadline.cancel();
  boost::system::error_code ignored;
  st->socket.shutdown(tcp::socket::shutdown_both, ignored);
  st->socket.close(ignored);
  co_return ok;
}

}  // namespace

void HealthChecker::Impl::record(const Pool& pool, Endpoint& ep, bool pass) {
  const ActiveHealthConfig& a = pool.config().active;
  bool flipped_to = false;
  bool flipped = false;
  if (pass) {
    ep.check_failures_.store(0, std::memory_order_relaxed);
    const uint32_t p = ep.check_passes_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (!ep.activeHealthy() && p >= a.healthy_threshold) {
      ep.active_healthy_.store(true, std::memory_order_relaxed);
      flipped = flipped_to = true;
    }
  } else {
    ep.check_passes_.store(0, std::memory_order_relaxed);
    const uint32_t f = ep.check_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ep.activeHealthy() && f >= a.unhealthy_threshold) {
      ep.active_healthy_.store(false, std::memory_order_relaxed);
      flipped = true;
    }
  }
  if (flipped) {
    ep.health_flips_.fetch_add(1, std::memory_order_relaxed);
    if (on_change) on_change(pool, ep, flipped_to);
  }
}

namespace {

asio::awaitable<void> checkLoop(HealthChecker::Impl& impl, std::shared_ptr<Pool> pool, Endpoint& ep) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const bool pass = co_await checkOnce(*pool, ep);
    impl.record(*pool, ep, pass);
    // Up to +10% jitter so checks of many endpoints (and of many gateway
    // replicas started together) do not stay in lockstep.
    const auto interval = pool->config().active.interval;
    const auto jitter = std::chrono::duration_cast<Duration>(interval / 10);
    timer.expires_after(interval + (jitter.count() > 0 ? Duration(jitterRandom() % (jitter.count() + 1)) : Duration(0)));
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
  }
}

}  // namespace

HealthChecker::HealthChecker() = default;

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start(std::vector<std::shared_ptr<Pool>> pools) {
  stop();
  impl_ = std::make_unique<Impl>();
  impl_->on_change = on_change;
  impl_->pools = std::move(pools);
  size_t loops = 0;
  for (const auto& pool : impl_->pools) {
    if (!pool || !pool->config().active.enabled) continue;
    for (const auto& ep : pool->endpoints()) {
      asio::co_spawn(impl_->io, checkLoop(*impl_, pool, *ep), asio::detached);
      ++loops;
    }
  }
  // No pool checked actively: no thread (it would find no work and end at once).
  if (loops == 0) return;
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] {
    nameThisThread("health-check");
    impl->io.run();
  });
}

void HealthChecker::stop() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_.reset();  // destroys the pending coroutines (and their sockets) with the io_context
}

}  // namespace rampart::gateway::upstream
