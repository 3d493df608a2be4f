#include "gateway/core/worker.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "gateway/core/coarse_clock.h"
#include "gateway/core/thread_name.h"
#include "gateway/proxy/connection.h"

namespace rampart::gateway::core {

using boost::system::error_code;

std::optional<proxy::Stream> UpstreamCache::take(const tcp::endpoint& ep, const void* tls,
                                                std::chrono::milliseconds idle_timeout) {
  auto it = idle_.find(Key{ep, tls});
  if (it == idle_.end()) return std::nullopt;
  auto& q = it->second;
  auto now = coarseNow();
  while (!q.empty()) {
    Idle idle = std::move(q.back());
    q.pop_back();
    if (now - idle.since > idle_timeout) continue;  // too old: closes on destruction
    // Back in the cache under kFreshIdle ago: taken without the check below, a
    // syscall per request on a busy pool. Servers close idle keep-alive
    // connections after seconds (nginx 75 s, Apache httpd and Node.js 5 s) and
    // announce a last response with "Connection: close" (never cached); a
    // close in that window (a restart) fails the request as it would on nginx,
    // which never checks, and one without a body is retried on a fresh connection.
    const bool ssl_pending = idle.stream.ssl() && SSL_pending(idle.stream.ssl()) > 0;
    if (now - idle.since < kFreshIdle && !ssl_pending) return std::move(idle.stream);
    // Still open? A readable idle socket means EOF or junk: drop it.
    char b;
    // (TLS: a close_notify, or data OpenSSL holds, counts the same.)
    ssize_t r = ::recv(idle.stream.socket().native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || r > 0) continue;
    if (ssl_pending) continue;
    return std::move(idle.stream);
  }
  return std::nullopt;
}

void UpstreamCache::put(const tcp::endpoint& ep, const void* tls, proxy::Stream s, size_t max_idle) {
  auto& q = idle_[Key{ep, tls}];
  if (q.size() >= max_idle) return;  // s closes
  q.push_back(Idle{std::move(s), coarseNow()});
}

void UpstreamCache::closeAll() { idle_.clear(); }

size_t UpstreamCache::size() const {
  size_t n = 0;
  for (auto& [k, q] : idle_) n += q.size();
  return n;
}

Worker::Worker(unsigned id, Shared& shared) : id_(id), shared_(shared) {}

Worker::~Worker() {
  stop();
  join();
}

std::string listenKey(const std::string& listener, const config::ListenAddress& a) {
  return fmt::format("{}|{}|{}", listener, a.host, a.port);
}

bool Worker::openListeners(const Runtime& rt, std::string* error) {
  std::vector<std::pair<std::string, config::ListenAddress>> all;
  for (const auto& l : rt.config->listeners)
    for (const auto& a : l.listen) all.emplace_back(l.name, a);
  return openAcceptors(all, &acceptors_, error);
}

void Worker::addAcceptors(std::vector<Acceptor> accs) {
  asio::post(ioc_, [this, accs = std::move(accs)]() mutable {
    for (auto& a : accs) {
      if (shared_.draining) {
        error_code ec;
        a.acc->close(ec);
        continue;
      }
      asio::co_spawn(ioc_, acceptLoop(a.acc, a.listener, a.open), asio::detached);
      acceptors_.push_back(std::move(a));
    }
  });
}

void Worker::closeAcceptors(std::set<std::string> keys) {
  asio::post(ioc_, [this, keys = std::move(keys)] {
    std::erase_if(acceptors_, [&](Acceptor& a) {
      if (!keys.count(a.key)) return false;
      error_code ec;
      a.acc->close(ec);  // its loop ends (it holds the acceptor until then)
      return true;
    });
  });
}

bool Worker::openAcceptors(const std::vector<std::pair<std::string, config::ListenAddress>>& addresses,
                           std::vector<Acceptor>* out, std::string* error) {
  std::vector<Acceptor> opened;
  for (const auto& [name, a] : addresses) {
    {
      const auto& l = name;
      error_code ec;
      auto addr = asio::ip::make_address(a.host, ec);
      if (ec) {
        *error = fmt::format("listener '{}': invalid address '{}'", l, a.host);
        return false;
      }
      tcp::endpoint ep(addr, a.port);
      auto acc = std::make_shared<tcp::acceptor>(ioc_);
      acc->open(ep.protocol(), ec);
      if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
          ec = error_code(errno, boost::system::system_category());
      }
      if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acc->bind(ep, ec);
      if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        *error = fmt::format("listener '{}': cannot listen on {}: {}", l, a.text, ec.message());
        return false;  // `opened` closes with it
      }
      // Counted per listener across workers; the entry exists (the server adds it first).
      opened.push_back({std::move(acc), name, listenKey(name, a), shared_.listener_connections.at(name).get()});
    }
  }
  for (auto& a : opened) out->push_back(std::move(a));
  return true;
}

void Worker::start(std::shared_ptr<const Runtime> rt) {
  runtime_ = std::move(rt);
  work_.emplace(ioc_.get_executor());
  for (auto& a : acceptors_) asio::co_spawn(ioc_, acceptLoop(a.acc, a.listener, a.open), asio::detached);
  // busy_poll_us as the worker starts (a reload's change takes a restart).
  thread_ = std::thread([this, busy_poll_us = runtime_->config->busy_poll_us] {
    nameThisThread("worker-" + std::to_string(id_));
    for (;;) {
      try {
        run(busy_poll_us);
        break;
      } catch (const std::exception& e) {
        spdlog::error("worker {}: unexpected exception: {}", id_, e.what());
      }
    }
  });
}

// The event loop. With busy_poll_us, a worker that runs out of events polls
// (epoll_wait with no timeout) for that long after the last one before it
// sleeps: the CPU stays busy between requests close together (HAProxy's
// busy-polling: on a virtual machine an idle vCPU is halted, and the request
// that wakes it runs slower, its caches cold). Without, io_context::run().
void Worker::run(uint32_t us) {
  if (us == 0) {
    ioc_.run();
    return;
  }
  using clock = std::chrono::steady_clock;
  const auto window = std::chrono::microseconds(us);
  while (!ioc_.stopped()) {
    for (auto until = clock::now() + window;;) {
      if (ioc_.poll() > 0) until = clock::now() + window;
      else if (clock::now() >= until) break;
      if (ioc_.stopped()) return;
    }
    if (ioc_.run_one() == 0) return;  // quiet for the whole window: sleep until the next event
  }
}

void Worker::setRuntime(std::shared_ptr<const Runtime> rt) {
  asio::post(ioc_, [this, rt = std::move(rt)]() mutable { runtime_ = std::move(rt); });
}

void Worker::beginDrain() {
  asio::post(ioc_, [this] {
    for (auto& a : acceptors_) {
      error_code ec;
      a.acc->close(ec);
    }
    idle_clients.forEach([](tcp::socket* s) {
      error_code ec;
      s->cancel(ec);
    });
    cache_.closeAll();
  });
}

void Worker::stop() {
  work_.reset();
  ioc_.stop();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::string Worker::nextRequestId() {
  // prefix, the worker in hex, the sequence in at least six hex digits (as
  // fmt's "{}{:x}{:06x}", without parsing a format on every request).
  char digits[40];
  char* end = digits + sizeof digits;
  char* p = end;
  auto hex = [&](uint64_t v, int min) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int n = 0; v != 0 || n < min; ++n, v >>= 4) *--p = kHex[v & 15];
  };
  hex(++request_seq_, 6);
  hex(id_, 1);
  std::string id;
  id.reserve(shared_.id_prefix.size() + size_t(end - p));
  id.append(shared_.id_prefix).append(p, end);
  return id;
}

asio::awaitable<void> Worker::acceptLoop(std::shared_ptr<tcp::acceptor> acc_ptr, std::string listener,
                                        std::atomic<uint64_t>* open_count) {
  tcp::acceptor& acc = *acc_ptr;  // held by this loop until it ends
  std::atomic<uint64_t>& open = *open_count;
  asio::steady_timer wait(ioc_);
  for (;;) {
    // At limits.max_connections (all workers together) stop accepting, as HAProxy's
    // maxconn does: further connections wait in the kernel's backlog until one closes.
    auto maxConnections = [&] {
      uint64_t max = config::Limits{}.max_connections;
      for (const auto& l : runtime_->config->listeners)
        if (l.name == listener) max = l.limits.max_connections;
      return max;
    };
    while (open.load(std::memory_order_relaxed) >= maxConnections()) {
      wait.expires_after(std::chrono::milliseconds(10));
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!acc.is_open()) co_return;
    }
    auto [ec, sock] = co_await acc.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("accept on listener '{}' failed: {}", listener, ec.message());
      asio::steady_timer t(ioc_, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (shared_.draining) continue;  // sock closes
    // Another worker's accept may have filled the last slot meanwhile: reserve one
    // atomically, holding this connection unserved until a slot frees.
    bool reserved = false;
    while (!reserved && !shared_.draining) {
      uint64_t cur = open.load(std::memory_order_relaxed);
      if (cur < maxConnections()) {
        reserved = open.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed);
        continue;
      }
      wait.expires_after(std::chrono::milliseconds(10));
      co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!reserved) continue;  // draining: sock closes
    asio::co_spawn(ioc_, proxy::serveClient(*this, std::move(sock), listener),
                   [&open](std::exception_ptr) { open.fetch_sub(1, std::memory_order_relaxed); });
  }
}

}  // namespace rampart::gateway::core
